//! CQL2 filters (OGC API - Features Part 3): parsed by the `cql2` crate
//! (cql2-text or cql2-json), then checked against a collection's queryables
//! and compiled into a small tree that this module evaluates against each
//! candidate feature's properties and geometry. Nothing of the request is
//! ever evaluated as code or turned into SQL.
//!
//! Supported: Basic CQL2 (`=`, `<>`, `<`, `<=`, `>`, `>=`, `AND`, `OR`,
//! `NOT`, `IS NULL`), `LIKE` (`%`, `_`, `\` escapes), `IN`, `BETWEEN`,
//! `CASEI`, and the spatial predicates `S_INTERSECTS`, `S_DISJOINT`,
//! `S_WITHIN`, `S_CONTAINS` between the `geometry` queryable and a literal
//! geometry or `BBOX`. Comparisons follow SQL's three-valued logic: a
//! missing or null property makes a comparison unknown, and only features
//! for which the whole filter is true are returned.
//!
//! The evaluator is hand-written, and kept because it pays: evaluating
//! filters over 5,000 Badung-like features it is 10x to 350x faster than
//! cql2 0.6's own evaluation (`Expr::matches`, which clones and reduces
//! the expression against each feature's JSON), with the same matches:
//! equality 1.2 ms against 31 ms, `AND` 1.5 against 51, numbers 1.1
//! against 57, `LIKE` 2.4 against 25, `IN` 1.9 against 39, `S_INTERSECTS`
//! with a `BBOX` 0.13 against 45, a date comparison 0.7 against 40; from
//! the features' bytes, as `select_page` pays it, 9.5 ms against 59 (`AND`)
//! and 12 against 102 (`S_INTERSECTS`). Parsing is the crate's; checking
//! adds nothing measurable (15-50 µs either way). Bench:
//! `layers/benches/cql2.rs`.

use geo::{BoundingRect, Intersects, Relate};
use geozero::ToGeo;
use serde_json::Value;

use crate::bbox::Bbox;

/// The name of the geometry queryable.
pub const GEOMETRY: &str = "geometry";

/// The type of a queryable property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// Text.
    String,
    /// A number.
    Number,
    /// `true` or `false`.
    Boolean,
}

impl Type {
    fn name(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Number => "number",
            Type::Boolean => "boolean",
        }
    }

    /// The type of a TileJSON field type (`String`, `Number`, `Boolean`).
    pub fn of_field(t: &Value) -> Type {
        match t.as_str() {
            Some("Number") => Type::Number,
            Some("Boolean") => Type::Boolean,
            _ => Type::String,
        }
    }
}

/// A filter that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// It failed to parse or check; the message points at the problem.
    #[error("{0}")]
    Invalid(String),
    /// The thread that parses filters could not be started (a fault of
    /// the machine, not of the filter).
    #[error("cannot start the filter parser's thread: {0}")]
    Thread(#[from] std::io::Error),
}

type Result<T> = std::result::Result<T, FilterError>;

fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(FilterError::Invalid(msg.into()))
}

/// A value in a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A property of the feature.
    Prop(String, Type),
    /// Text.
    Str(String),
    /// A number.
    Num(f64),
    /// A boolean.
    Bool(bool),
    /// `NULL`.
    Null,
    /// `CASEI(x)`: `x` lower-cased.
    CaseI(Box<Operand>),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// Spatial predicates between the feature geometry and a literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spatial {
    /// The geometries share a point.
    Intersects,
    /// They share none.
    Disjoint,
    /// The feature lies within the literal.
    Within,
    /// The feature contains the literal.
    Contains,
}

/// A compiled filter.
#[derive(Debug, Clone)]
pub enum Node {
    /// All of these.
    And(Vec<Node>),
    /// Any of these.
    Or(Vec<Node>),
    /// Not this.
    Not(Box<Node>),
    /// A comparison.
    Compare(Cmp, Operand, Operand),
    /// `value LIKE pattern`.
    Like(Operand, Operand),
    /// `value BETWEEN low AND high`.
    Between(Operand, Operand, Operand),
    /// `value IN (list)`.
    In(Operand, Vec<Operand>),
    /// `value IS NULL`.
    IsNull(Operand),
    /// A spatial predicate on the feature geometry.
    Spatial(Spatial, Box<geo::Geometry<f64>>),
    /// A constant.
    Const(bool),
}

/// The queryables of a collection: property name → type (the geometry is
/// [`GEOMETRY`]).
pub type Queryables = serde_json::Map<String, Value>;

/// Parses a filter in `lang` (`cql2-text` or `cql2-json`) and checks it
/// against `queryables` (property name → TileJSON type).
pub fn compile(text: &str, lang: &str, queryables: &Queryables) -> Result<Node> {
    shallow(
        text,
        if lang == "cql2-text" {
            MAX_TEXT_DEPTH
        } else {
            MAX_DEPTH
        },
    )?;
    let expr = match lang {
        "cql2-text" => ::cql2::parse_text(text)
            .map_err(|e| FilterError::Invalid(format!("filter is not valid cql2-text: {e}")))?,
        "cql2-json" => ::cql2::parse_json(text)
            .map_err(|e| FilterError::Invalid(format!("filter is not valid cql2-json: {e}")))?,
        other => {
            return err(format!(
                "filter-lang must be cql2-text or cql2-json, got {other:?}"
            ));
        }
    };
    Compiler { queryables }.predicate(&expr)
}

/// Stack of the thread that parses a filter.
const PARSE_STACK: usize = 64 << 20;

/// [`compile`] on a thread of its own with a large stack: the parser is
/// recursive (the filter's nesting is also limited), and a panic in it is
/// a bad filter, not a crash.
pub fn compile_isolated(text: &str, lang: &str, queryables: &Queryables) -> Result<Node> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("cql2-parse".into())
            .stack_size(PARSE_STACK)
            .spawn_scoped(scope, || compile(text, lang, queryables))
            .map(|h| h.join())
    })?
    .unwrap_or_else(|_| err("the filter could not be parsed"))
}

/// Deepest bracket nesting, and most `NOT`s and comparison operators, a
/// filter may have: the parser is recursive, and no honest filter comes near.
const MAX_DEPTH: usize = 64;
/// The cql2-text parser backtracks: its time doubles with every level of
/// brackets around a mistake (20 levels took 8 s, found by the fuzzer), so
/// text filters get less: WKT's `MULTIPOLYGON(((` inside a predicate inside
/// `NOT (… AND …)` needs 6.
const MAX_TEXT_DEPTH: usize = 12;
const MAX_NOTS: usize = 64;
const MAX_COMPARISONS: usize = 1_000;

/// Refuses filters nested deeper than the limits before they reach the
/// (recursive) parser.
fn shallow(text: &str, max_depth: usize) -> Result<()> {
    let (mut depth, mut deepest, mut nots, mut cmps, mut minus_run) = (0usize, 0usize, 0, 0, 0);
    let mut quote: Option<char> = None;
    let mut word = String::new();
    let end_word = |word: &mut String, nots: &mut usize| {
        if word.eq_ignore_ascii_case("not") {
            *nots += 1;
        }
        word.clear();
    };
    for c in text.chars() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            minus_run = 0;
            continue;
        }
        end_word(&mut word, &mut nots);
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            '=' | '<' | '>' => cmps += 1,
            '-' => {
                minus_run += 1;
                if minus_run > 4 {
                    return err("filter has a run of more than 4 minus signs");
                }
            }
            c if c.is_whitespace() => {}
            _ => minus_run = 0,
        }
        if c != '-' && !c.is_whitespace() {
            minus_run = 0;
        }
    }
    end_word(&mut word, &mut nots);
    if deepest > max_depth {
        return err(format!(
            "filter is nested {deepest} levels deep; at most {max_depth} are allowed"
        ));
    }
    if nots > MAX_NOTS {
        return err(format!(
            "filter has {nots} NOTs; at most {MAX_NOTS} are allowed"
        ));
    }
    if cmps > MAX_COMPARISONS {
        return err(format!(
            "filter has {cmps} comparison operators; at most {MAX_COMPARISONS} are allowed"
        ));
    }
    Ok(())
}

struct Compiler<'a> {
    queryables: &'a Queryables,
}

fn describe(e: &::cql2::Expr) -> String {
    e.to_text().unwrap_or_else(|_| format!("{e:?}"))
}

impl Compiler<'_> {
    fn predicate(&self, e: &::cql2::Expr) -> Result<Node> {
        use ::cql2::Expr;
        match e {
            Expr::Bool(b) => Ok(Node::Const(*b)),
            Expr::Operation { op, args } => self.operation(op, args),
            other => err(format!(
                "{} is not a condition: a filter must be a predicate such as a comparison",
                describe(other)
            )),
        }
    }

    fn arity(op: &str, args: &[Box<::cql2::Expr>], n: usize) -> Result<()> {
        if args.len() == n {
            Ok(())
        } else {
            err(format!("{op} takes {n} argument(s), got {}", args.len()))
        }
    }

    fn operation(&self, op: &str, args: &[Box<::cql2::Expr>]) -> Result<Node> {
        let lower = op.to_ascii_lowercase();
        match lower.as_str() {
            "and" | "or" => {
                if args.is_empty() {
                    return err(format!("{op} needs arguments"));
                }
                let parts = args
                    .iter()
                    .map(|a| self.predicate(a))
                    .collect::<Result<Vec<_>>>()?;
                Ok(if lower == "and" {
                    Node::And(parts)
                } else {
                    Node::Or(parts)
                })
            }
            "not" => {
                Self::arity(op, args, 1)?;
                Ok(Node::Not(Box::new(self.predicate(&args[0])?)))
            }
            "=" | "<>" | "<" | "<=" | ">" | ">=" => {
                Self::arity(op, args, 2)?;
                let cmp = match op {
                    "=" => Cmp::Eq,
                    "<>" => Cmp::Ne,
                    "<" => Cmp::Lt,
                    "<=" => Cmp::Le,
                    ">" => Cmp::Gt,
                    _ => Cmp::Ge,
                };
                let (a, b) = (self.operand(&args[0])?, self.operand(&args[1])?);
                same_type(op, &a, &b)?;
                if (matches!(a, Operand::Bool(_)) || matches!(b, Operand::Bool(_)))
                    && !matches!(cmp, Cmp::Eq | Cmp::Ne)
                {
                    return err(format!("{op} cannot order booleans"));
                }
                Ok(Node::Compare(cmp, a, b))
            }
            "like" => {
                Self::arity(op, args, 2)?;
                let (a, p) = (self.operand(&args[0])?, self.operand(&args[1])?);
                for x in [&a, &p] {
                    if let Some(t) = type_of(x)
                        && t != Type::String
                    {
                        return err(format!(
                            "LIKE compares text, but {} is a {}",
                            show(x),
                            t.name()
                        ));
                    }
                }
                if !matches!(literal_of(&p), Some(Operand::Str(_))) {
                    return err("the pattern of LIKE must be a text literal");
                }
                Ok(Node::Like(a, p))
            }
            "between" => {
                let flat: Vec<&::cql2::Expr> = match args.len() {
                    3 => args.iter().map(AsRef::as_ref).collect(),
                    2 => match args[1].as_ref() {
                        ::cql2::Expr::Array(items) if items.len() == 2 => {
                            vec![args[0].as_ref(), items[0].as_ref(), items[1].as_ref()]
                        }
                        _ => return err("BETWEEN takes a value, a low and a high bound"),
                    },
                    _ => return err("BETWEEN takes a value, a low and a high bound"),
                };
                let v = self.operand(flat[0])?;
                let lo = self.operand(flat[1])?;
                let hi = self.operand(flat[2])?;
                for b in [&lo, &hi] {
                    same_type("BETWEEN", &v, b)?;
                }
                if [&v, &lo, &hi]
                    .iter()
                    .any(|x| type_of(x) == Some(Type::Boolean))
                {
                    return err("BETWEEN cannot order booleans");
                }
                Ok(Node::Between(v, lo, hi))
            }
            "in" => {
                Self::arity(op, args, 2)?;
                let v = self.operand(&args[0])?;
                let ::cql2::Expr::Array(items) = args[1].as_ref() else {
                    return err("IN takes a list of values: x IN ('a', 'b')");
                };
                let list = items
                    .iter()
                    .map(|i| self.operand(i))
                    .collect::<Result<Vec<_>>>()?;
                for i in &list {
                    same_type("IN", &v, i)?;
                }
                Ok(Node::In(v, list))
            }
            "isnull" => {
                Self::arity(op, args, 1)?;
                Ok(Node::IsNull(self.operand(&args[0])?))
            }
            "s_intersects" | "s_disjoint" | "s_within" | "s_contains" => {
                Self::arity(op, args, 2)?;
                let kind = match lower.as_str() {
                    "s_intersects" => Spatial::Intersects,
                    "s_disjoint" => Spatial::Disjoint,
                    "s_within" => Spatial::Within,
                    _ => Spatial::Contains,
                };
                let (first, second) = (args[0].as_ref(), args[1].as_ref());
                let (geom, swapped) = match (
                    self.is_geometry_prop(first)?,
                    self.is_geometry_prop(second)?,
                ) {
                    (true, false) => (second, false),
                    (false, true) => (first, true),
                    _ => {
                        return err(format!(
                            "{} compares the geometry property {GEOMETRY:?} with a literal geometry",
                            op.to_ascii_uppercase()
                        ));
                    }
                };
                let g = literal_geometry(geom)?;
                // S_WITHIN(literal, geometry) is S_CONTAINS(geometry, literal).
                let kind = match (kind, swapped) {
                    (Spatial::Within, true) => Spatial::Contains,
                    (Spatial::Contains, true) => Spatial::Within,
                    (k, _) => k,
                };
                Ok(Node::Spatial(kind, Box::new(g)))
            }
            other => {
                let known = ::cql2::SPATIALOPS.contains(&other)
                    || ::cql2::TEMPORALOPS
                        .iter()
                        .any(|t| t.eq_ignore_ascii_case(other))
                    || ::cql2::ARRAYOPS
                        .iter()
                        .any(|t| t.eq_ignore_ascii_case(other))
                    || ::cql2::ARITHOPS.contains(&other);
                if known {
                    err(format!(
                        "operator or function {op:?} is not supported here; supported: comparisons, AND, OR, NOT, IS NULL, LIKE, IN, BETWEEN, CASEI, S_INTERSECTS, S_DISJOINT, S_WITHIN, S_CONTAINS"
                    ))
                } else {
                    err(format!("unknown function {op:?}"))
                }
            }
        }
    }

    fn is_geometry_prop(&self, e: &::cql2::Expr) -> Result<bool> {
        Ok(match e {
            ::cql2::Expr::Property { property } => {
                if property == GEOMETRY {
                    true
                } else {
                    self.property(property)?;
                    return err(format!(
                        "property {property:?} is not a geometry; the geometry queryable is {GEOMETRY:?}"
                    ));
                }
            }
            _ => false,
        })
    }

    fn property(&self, name: &str) -> Result<Type> {
        if name == GEOMETRY {
            return err(format!(
                "the geometry can only be used in spatial predicates such as S_INTERSECTS({GEOMETRY}, ...)"
            ));
        }
        match self.queryables.get(name) {
            Some(t) => Ok(Type::of_field(t)),
            None => {
                let known: Vec<&str> = self.queryables.keys().map(String::as_str).collect();
                err(format!(
                    "unknown property {name:?}: not a queryable of this collection (queryables: {}, {GEOMETRY})",
                    known.join(", ")
                ))
            }
        }
    }

    fn operand(&self, e: &::cql2::Expr) -> Result<Operand> {
        use ::cql2::Expr;
        Ok(match e {
            Expr::Property { property } => {
                Operand::Prop(property.clone(), self.property(property)?)
            }
            Expr::Float(f) => Operand::Num(*f),
            Expr::Literal(s) => Operand::Str(s.clone()),
            Expr::Bool(b) => Operand::Bool(*b),
            Expr::Null => Operand::Null,
            Expr::Date { date } | Expr::Timestamp { timestamp: date } => match date.as_ref() {
                Expr::Literal(s) => Operand::Str(s.clone()),
                other => return err(format!("{} is not a date literal", describe(other))),
            },
            Expr::Operation { op, args } if op.eq_ignore_ascii_case("casei") => {
                Self::arity(op, args, 1)?;
                let inner = self.operand(&args[0])?;
                if let Some(t) = type_of(&inner)
                    && t != Type::String
                {
                    return err(format!(
                        "CASEI takes text, but {} is a {}",
                        show(&inner),
                        t.name()
                    ));
                }
                Operand::CaseI(Box::new(inner))
            }
            Expr::Operation { op, .. } => {
                return err(format!(
                    "{op:?} cannot be used as a value here (arithmetic and functions other than CASEI are not supported)"
                ));
            }
            other => {
                return err(format!(
                    "{} cannot be used as a value here",
                    describe(other)
                ));
            }
        })
    }
}

fn type_of(o: &Operand) -> Option<Type> {
    match o {
        Operand::Prop(_, t) => Some(*t),
        Operand::Str(_) => Some(Type::String),
        Operand::Num(_) => Some(Type::Number),
        Operand::Bool(_) => Some(Type::Boolean),
        Operand::Null => None,
        Operand::CaseI(i) => type_of(i),
    }
}

fn literal_of(o: &Operand) -> Option<&Operand> {
    match o {
        Operand::CaseI(i) => literal_of(i),
        Operand::Prop(..) => None,
        other => Some(other),
    }
}

fn show(o: &Operand) -> String {
    match o {
        Operand::Prop(p, _) => format!("property {p:?}"),
        Operand::Str(s) => format!("'{s}'"),
        Operand::Num(n) => n.to_string(),
        Operand::Bool(b) => b.to_string(),
        Operand::Null => "NULL".into(),
        Operand::CaseI(i) => format!("CASEI({})", show(i)),
    }
}

fn same_type(op: &str, a: &Operand, b: &Operand) -> Result<()> {
    match (type_of(a), type_of(b)) {
        (Some(x), Some(y)) if x != y => err(format!(
            "{op} compares {} ({}) with {} ({}): the types differ",
            show(a),
            x.name(),
            show(b),
            y.name()
        )),
        _ => Ok(()),
    }
}

fn literal_geometry(e: &::cql2::Expr) -> Result<geo::Geometry<f64>> {
    match e {
        ::cql2::Expr::Geometry(g) => {
            let wkt = g
                .to_wkt()
                .map_err(|e| FilterError::Invalid(format!("invalid geometry literal: {e}")))?;
            let g = geozero::wkt::Wkt(wkt.as_str()).to_geo().map_err(|e| {
                FilterError::Invalid(format!("invalid geometry literal {wkt}: {e}"))
            })?;
            check_coords(&g)?;
            Ok(g)
        }
        ::cql2::Expr::BBox { bbox } => {
            let nums = bbox
                .iter()
                .map(|v| match v.as_ref() {
                    ::cql2::Expr::Float(f) => Ok(*f),
                    other => err(format!("BBOX takes numbers, got {}", describe(other))),
                })
                .collect::<Result<Vec<f64>>>()?;
            let (minx, miny, maxx, maxy) = match nums.as_slice() {
                [a, b, c, d] => (*a, *b, *c, *d),
                [a, b, _, c, d, _] => (*a, *b, *c, *d),
                _ => return err("BBOX takes 4 (or 6) numbers"),
            };
            if !(minx <= maxx && miny <= maxy) {
                return err("BBOX must be minx, miny, maxx, maxy with min <= max");
            }
            let g = geo::Geometry::Rect(geo::Rect::new(
                geo::coord! { x: minx, y: miny },
                geo::coord! { x: maxx, y: maxy },
            ));
            check_coords(&g)?;
            Ok(g)
        }
        other => err(format!(
            "{} is not a geometry literal (use WKT such as POINT(115.17 -8.72), a GeoJSON geometry, or BBOX(...))",
            describe(other)
        )),
    }
}

fn check_coords(g: &geo::Geometry<f64>) -> Result<()> {
    use geo::CoordsIter;
    if g.coords_iter().all(|c| {
        c.x.is_finite()
            && c.y.is_finite()
            && (-180.0..=180.0).contains(&c.x)
            && (-90.0..=90.0).contains(&c.y)
    }) {
        Ok(())
    } else {
        err(
            "geometry literal has coordinates outside CRS84 (longitude -180..180, latitude -90..90)",
        )
    }
}

impl Node {
    /// Whether evaluating needs the feature's geometry.
    pub fn needs_geometry(&self) -> bool {
        match self {
            Node::And(v) | Node::Or(v) => v.iter().any(Node::needs_geometry),
            Node::Not(n) => n.needs_geometry(),
            Node::Spatial(..) => true,
            _ => false,
        }
    }

    /// A box every match lies in, from spatial predicates that must hold
    /// (the filter itself or the parts of a top-level AND): the R-tree
    /// pre-filter.
    pub fn envelope(&self) -> Option<Bbox> {
        match self {
            Node::Spatial(Spatial::Intersects | Spatial::Within, g) => {
                let r = g.bounding_rect()?;
                Some(Bbox::new(r.min().x, r.min().y, r.max().x, r.max().y))
            }
            Node::And(parts) => parts.iter().find_map(Node::envelope),
            _ => None,
        }
    }

    /// Three-valued evaluation: `None` is unknown.
    pub fn eval(&self, f: &Candidate<'_>) -> Option<bool> {
        match self {
            Node::Const(b) => Some(*b),
            Node::And(parts) => {
                let mut unknown = false;
                for p in parts {
                    match p.eval(f) {
                        Some(false) => return Some(false),
                        None => unknown = true,
                        Some(true) => {}
                    }
                }
                (!unknown).then_some(true)
            }
            Node::Or(parts) => {
                let mut unknown = false;
                for p in parts {
                    match p.eval(f) {
                        Some(true) => return Some(true),
                        None => unknown = true,
                        Some(false) => {}
                    }
                }
                (!unknown).then_some(false)
            }
            Node::Not(n) => n.eval(f).map(|b| !b),
            Node::Compare(cmp, a, b) => {
                let ord = compare(&value(a, f)?, &value(b, f)?)?;
                Some(match cmp {
                    Cmp::Eq => ord.is_eq(),
                    Cmp::Ne => ord.is_ne(),
                    Cmp::Lt => ord.is_lt(),
                    Cmp::Le => ord.is_le(),
                    Cmp::Gt => ord.is_gt(),
                    Cmp::Ge => ord.is_ge(),
                })
            }
            Node::Like(a, p) => match (value(a, f)?, value(p, f)?) {
                (Val::Str(s), Val::Str(p)) => Some(like(&s, &p)),
                _ => None,
            },
            Node::Between(v, lo, hi) => {
                let v = value(v, f)?;
                let lo = compare(&v, &value(lo, f)?)?;
                let hi = compare(&v, &value(hi, f)?)?;
                Some(lo.is_ge() && hi.is_le())
            }
            Node::In(v, list) => {
                let v = value(v, f)?;
                let mut unknown = false;
                for i in list {
                    match value(i, f).and_then(|i| compare(&v, &i)) {
                        Some(o) if o.is_eq() => return Some(true),
                        Some(_) => {}
                        None => unknown = true,
                    }
                }
                (!unknown).then_some(false)
            }
            Node::IsNull(v) => Some(value(v, f).is_none()),
            Node::Spatial(kind, lit) => {
                let g = f.geometry.as_ref()?;
                Some(match kind {
                    Spatial::Intersects => g.intersects(lit.as_ref()),
                    Spatial::Disjoint => !g.intersects(lit.as_ref()),
                    Spatial::Within => g.relate(lit.as_ref()).is_within(),
                    Spatial::Contains => g.relate(lit.as_ref()).is_contains(),
                })
            }
        }
    }
}

/// What a filter is evaluated against: one feature's properties and, when
/// the filter needs it, its geometry.
pub struct Candidate<'a> {
    /// The feature's properties.
    pub properties: Option<&'a serde_json::Map<String, Value>>,
    /// The feature's geometry (`None` without one, or when not needed).
    pub geometry: Option<geo::Geometry<f64>>,
}

enum Val {
    Str(String),
    Num(f64),
    Bool(bool),
}

/// The value of an operand for a feature; `None` for null or missing.
fn value(o: &Operand, f: &Candidate<'_>) -> Option<Val> {
    match o {
        Operand::Str(s) => Some(Val::Str(s.clone())),
        Operand::Num(n) => Some(Val::Num(*n)),
        Operand::Bool(b) => Some(Val::Bool(*b)),
        Operand::Null => None,
        Operand::CaseI(i) => match value(i, f)? {
            Val::Str(s) => Some(Val::Str(s.to_lowercase())),
            other => Some(other),
        },
        Operand::Prop(name, _) => match f.properties?.get(name)? {
            Value::String(s) => Some(Val::Str(s.clone())),
            Value::Number(n) => n.as_f64().map(Val::Num),
            Value::Bool(b) => Some(Val::Bool(*b)),
            _ => None,
        },
    }
}

fn compare(a: &Val, b: &Val) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// SQL `LIKE`: `%` any run of characters, `_` one character, `\` escapes.
pub fn like(text: &str, pattern: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Tok {
        Any,
        One,
        Ch(char),
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        toks.push(match c {
            '%' => Tok::Any,
            '_' => Tok::One,
            '\\' => Tok::Ch(it.next().unwrap_or('\\')),
            c => Tok::Ch(c),
        });
    }
    let s: Vec<char> = text.chars().collect();
    // Greedy match with backtracking to the last `%` (linear in practice).
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        match toks.get(j) {
            Some(Tok::Any) => {
                star = Some((j, i));
                j += 1;
            }
            Some(Tok::One) => {
                i += 1;
                j += 1;
            }
            Some(Tok::Ch(c)) if *c == s[i] => {
                i += 1;
                j += 1;
            }
            _ => match star {
                Some((sj, si)) => {
                    j = sj + 1;
                    i = si + 1;
                    star = Some((sj, si + 1));
                }
                None => return false,
            },
        }
    }
    toks[j..].iter().all(|t| *t == Tok::Any)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn q() -> Queryables {
        let mut m = Queryables::new();
        m.insert("nama".into(), "String".into());
        m.insert("nomor".into(), "Number".into());
        m.insert("aktif".into(), "Boolean".into());
        m
    }

    fn run(text: &str, lang: &str, props: Value, geom: Option<geo::Geometry<f64>>) -> Option<bool> {
        let n = compile(text, lang, &q()).unwrap();
        let props = props.as_object().cloned();
        n.eval(&Candidate {
            properties: props.as_ref(),
            geometry: geom,
        })
    }

    #[test]
    fn like_patterns() {
        assert!(like("Pura Dalem", "Pura%"));
        assert!(like("Pura Dalem", "%Dal_m"));
        assert!(!like("Pura Dalem", "Dalem%"));
        assert!(like("100%", "100\\%"));
        assert!(!like("1000", "100\\%"));
        assert!(like("", "%"));
        assert!(like("aXbXc", "a%b%c"));
    }

    #[test]
    fn evaluates_text_and_json() {
        let p = json!({"nama": "Pura Dalem", "nomor": 7, "aktif": true});
        let t = |s: &str| run(s, "cql2-text", p.clone(), None);
        assert_eq!(t("nama = 'Pura Dalem'"), Some(true));
        assert_eq!(t("nomor > 5 AND nomor < 8"), Some(true));
        assert_eq!(t("nomor BETWEEN 8 AND 9"), Some(false));
        assert_eq!(t("nomor IN (1, 7)"), Some(true));
        assert_eq!(t("NOT nama LIKE 'Pura%'"), Some(false));
        assert_eq!(t("CASEI(nama) LIKE 'pura%'"), Some(true));
        assert_eq!(t("aktif = true"), Some(true));
        assert_eq!(t("nama IS NULL"), Some(false));
        assert_eq!(run("nama = 'x'", "cql2-text", json!({}), None), None);
        assert_eq!(
            run(
                r#"{"op":"<>","args":[{"property":"nomor"},3]}"#,
                "cql2-json",
                p.clone(),
                None
            ),
            Some(true)
        );
        let pt = geo::Geometry::Point(geo::Point::new(115.17, -8.72));
        assert_eq!(
            run(
                "S_INTERSECTS(geometry, POLYGON((115 -9, 116 -9, 116 -8, 115 -8, 115 -9)))",
                "cql2-text",
                p.clone(),
                Some(pt.clone())
            ),
            Some(true)
        );
        assert_eq!(
            run(
                "S_INTERSECTS(geometry, BBOX(0, 0, 1, 1))",
                "cql2-text",
                p,
                Some(pt)
            ),
            Some(false)
        );
    }

    #[test]
    fn deep_brackets_around_a_mistake_are_refused_quickly() {
        // Found by the fuzzer (tests/fixtures/fuzz/cql2/): the parser took
        // seconds on 20 unclosed brackets.
        for name in ["open-brackets.txt", "brackets-around-a-mistake.txt"] {
            let path = format!(
                "{}/../tests/fixtures/fuzz/cql2/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            let text = std::fs::read_to_string(path).unwrap();
            let t = std::time::Instant::now();
            let e = compile(&text, "cql2-text", &q()).unwrap_err().to_string();
            assert!(e.contains("nested"), "{e}");
            assert!(t.elapsed() < std::time::Duration::from_secs(1));
        }
        // Twelve levels still parse, and quickly even around a mistake.
        let deep = format!("{}nomor = 1{}", "(".repeat(12), ")".repeat(12));
        assert!(compile(&deep, "cql2-text", &q()).is_ok());
        let t = std::time::Instant::now();
        let bad = format!("{}={}", "(".repeat(12), ")".repeat(12));
        assert!(compile(&bad, "cql2-text", &q()).is_err());
        assert!(
            t.elapsed() < std::time::Duration::from_secs(1),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn rejects_with_pointing_messages() {
        let e = |s: &str| compile(s, "cql2-text", &q()).unwrap_err().to_string();
        assert!(e("kecamatan = 'Kuta'").contains("unknown property \"kecamatan\""));
        assert!(e("nomor = 'tujuh'").contains("types differ"));
        assert!(e("nama = ").contains("cql2-text"));
        assert!(e("T_BEFORE(nama, TIMESTAMP('2020-01-01T00:00:00Z'))").contains("not supported"));
        assert!(e("nomor LIKE 'x%'").contains("LIKE"));
        assert!(e("S_INTERSECTS(nama, POINT(1 1))").contains("not a geometry"));
        assert!(
            compile("{", "cql2-json", &q())
                .unwrap_err()
                .to_string()
                .contains("cql2-json")
        );
    }
}
