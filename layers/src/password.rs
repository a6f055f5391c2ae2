//! The password policy: what a person would call weak is refused, with the
//! reason and what to do instead, in English and Indonesian.
//!
//! One function, [`check`], is used by every path that sets a password
//! (`bsc user add`, `bsc user passwd`, and through them any future HTTP
//! route: see [`crate::store::accounts::check_password`]). Passwords are
//! kept as argon2id hashes ([`hash_password`], [`verify_password`]).

use std::sync::OnceLock;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{Error, Result};

/// Shortest password accepted, in characters.
pub const MIN_LEN: usize = 10;
/// Longest password accepted, in bytes: longer input is refused before hashing.
pub const MAX_LEN: usize = 1024;

/// Why a password is refused. The message names the reason and what to do,
/// in English and then Indonesian, on one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    /// Fewer than [`MIN_LEN`] characters.
    #[error(
        "the password must have at least {MIN_LEN} characters; a phrase of several words is long and easy to remember \
         / kata sandi minimal {MIN_LEN} karakter; frasa dari beberapa kata panjang dan mudah diingat"
    )]
    TooShort,
    /// More than [`MAX_LEN`] bytes.
    #[error("the password must have at most {MAX_LEN} bytes / kata sandi maksimal {MAX_LEN} byte")]
    TooLong,
    /// Control characters (newlines, tabs, ...).
    #[error(
        "the password must not contain control characters such as newlines or tabs \
         / kata sandi tidak boleh berisi karakter kontrol seperti baris baru atau tab"
    )]
    Control,
    /// Only whitespace.
    #[error(
        "the password is only spaces; choose one with letters, digits or symbols \
         / kata sandi hanya berisi spasi; pilih yang berisi huruf, angka atau simbol"
    )]
    Whitespace,
    /// One character, or a pattern of at most four, repeated.
    #[error(
        "the password only repeats one character or a short pattern (like aaaaaaaaaa or abababab); \
         choose a phrase of several unrelated words \
         / kata sandi hanya mengulang satu karakter atau pola pendek (seperti aaaaaaaaaa atau abababab); \
         pilih frasa dari beberapa kata yang tidak saling berhubungan"
    )]
    Repeated,
    /// A straight run such as `0123456789` or `abcdefghij`.
    #[error(
        "the password is a straight run of characters (like 1234567890 or abcdefghij); \
         choose a phrase of several unrelated words \
         / kata sandi hanya urutan karakter (seperti 1234567890 atau abcdefghij); \
         pilih frasa dari beberapa kata yang tidak saling berhubungan"
    )]
    Sequence,
    /// On the list of the most common passwords (perhaps with digits or
    /// symbols around it).
    #[error(
        "the password is one of the most common passwords (perhaps with digits or symbols added), \
         which attackers try first; choose a phrase of several unrelated words \
         / kata sandi ini termasuk yang paling umum dipakai (mungkin dengan tambahan angka atau simbol) \
         dan dicoba pertama kali oleh penyerang; pilih frasa dari beberapa kata yang tidak saling berhubungan"
    )]
    Common,
    /// Contains the user's own login name.
    #[error(
        "the password contains the user name; choose one that does not \
         / kata sandi memuat nama pengguna; pilih kata sandi yang tidak memuatnya"
    )]
    ContainsName,
}

/// The most common passwords (from public breach lists, with Indonesian
/// and Balinese favourites added), lower case. A password is refused when,
/// lower-cased and without spaces, it equals one of these, or does once the
/// digits and symbols at its start and end are taken away
/// (`Bismillah2024!` is `bismillah`). Entries shorter than [`MIN_LEN`] only
/// matter in that second form.
pub const COMMON: &[&str] = &[
    // Digits and keyboard walks.
    "123456",
    "1234567",
    "12345678",
    "123456789",
    "1234567890",
    "12345678910",
    "123123123",
    "1234512345",
    "0987654321",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "1qaz2wsx",
    "1qaz2wsx3edc",
    "zaq12wsx",
    "qwerty",
    "qwertyuiop",
    "qwertyui",
    "qwerty123",
    "qwert",
    "asdfgh",
    "asdfghjkl",
    "zxcvbnm",
    "zxcvbn",
    "qazwsx",
    "qweasdzxc",
    "asdasd",
    "qwe123",
    "abc123",
    "abcd1234",
    "aa123456",
    "a1b2c3d4",
    "a123456789",
    "q1w2e3r4",
    "147258369",
    "159753",
    "741852963",
    "987654321",
    "password",
    "password1",
    "password12",
    "password123",
    "password1234",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "pass",
    "passwort",
    "motdepasse",
    "contraseña",
    "secret",
    "letmein",
    "welcome",
    "welcome1",
    "welcome123",
    "iloveyou",
    "trustno1",
    "monkey",
    "dragon",
    "football",
    "baseball",
    "basketball",
    "soccer",
    "master",
    "superman",
    "batman",
    "starwars",
    "pokemon",
    "naruto",
    "sunshine",
    "princess",
    "shadow",
    "michael",
    "jennifer",
    "charlie",
    "jordan",
    "freedom",
    "whatever",
    "computer",
    "internet",
    "samsung",
    "google",
    "facebook",
    "instagram",
    "youtube",
    "azerty",
    "login",
    "admin",
    "admin123",
    "administrator",
    "root",
    "toor",
    "user",
    "guest",
    "test",
    "test123",
    "testing",
    "default",
    "changeme",
    "hello",
    "helloworld",
    "loveyou",
    "lovely",
    "love",
    "iloveu",
    "mypassword",
    "ourpassword",
    "newpassword",
    "abcdefg",
    "abcdefgh",
    "abcdefghij",
    "goodluck",
    "blessed",
    "jesus",
    "jesuschrist",
    "christ",
    "allah",
    "allahuakbar",
    // Indonesian words and phrases.
    "bismillah",
    "bismilah",
    "alhamdulillah",
    "alhamdulilah",
    "assalamualaikum",
    "subhanallah",
    "masyaallah",
    "insyaallah",
    "indonesia",
    "indonesiaraya",
    "merdeka",
    "garuda",
    "pancasila",
    "nusantara",
    "jakarta",
    "surabaya",
    "bandung",
    "yogyakarta",
    "jogja",
    "semarang",
    "medan",
    "makassar",
    "sayang",
    "sayangku",
    "sayangkamu",
    "akusayangkamu",
    "akucintakamu",
    "cinta",
    "cintaku",
    "cintakamu",
    "kasih",
    "kekasih",
    "rahasia",
    "rahasiaku",
    "katasandi",
    "kata sandi",
    "sandi",
    "kunci",
    "masuk",
    "selamat",
    "selamatdatang",
    "terimakasih",
    "tuhan",
    "sukses",
    "bahagia",
    "ganteng",
    "cantik",
    "anjing",
    "kucing",
    "doraemon",
    "persija",
    "persib",
    "arema",
    "bonek",
    "pemerintah",
    "pegawai",
    "kantor",
    "dinas",
    "bupati",
    "pemkab",
    "pemda",
    "kominfo",
    "diskominfo",
    // Bali and Badung.
    "bali",
    "baliisland",
    "balidwipa",
    "pulaubali",
    "denpasar",
    "badung",
    "badung123",
    "badungkab",
    "kabbadung",
    "kabupatenbadung",
    "mangupura",
    "puspem",
    "puspembadung",
    "kuta",
    "legian",
    "seminyak",
    "nusadua",
    "jimbaran",
    "canggu",
    "ubud",
    "gianyar",
    "tabanan",
    "singaraja",
    "buleleng",
    "karangasem",
    "klungkung",
    "bangli",
    "jembrana",
    "om swastiastu",
    "omswastiastu",
    "swastiastu",
    "astungkara",
    "suksma",
    "rahajeng",
    "smartcity",
    "badungsmartcity",
    "peta",
    "petabadung",
    "geoportal",
];

/// Longest repeated unit that counts as "a short pattern".
const MAX_PATTERN: usize = 4;

/// Checks `password` for the user named `user` against the policy:
/// [`MIN_LEN`] characters to [`MAX_LEN`] bytes, no control characters, not
/// only whitespace, not one character or a pattern of up to four repeated,
/// not a straight run like `1234567890`, not a common password (see
/// [`COMMON`]) and not containing the user name (when it has three
/// characters or more; compared without case).
pub fn check(user: &str, password: &str) -> Result<(), PasswordProblem> {
    if password.chars().count() < MIN_LEN {
        return Err(PasswordProblem::TooShort);
    }
    if password.len() > MAX_LEN {
        return Err(PasswordProblem::TooLong);
    }
    if password.chars().any(char::is_control) {
        return Err(PasswordProblem::Control);
    }
    if password.chars().all(char::is_whitespace) {
        return Err(PasswordProblem::Whitespace);
    }
    let lower: Vec<char> = password.to_lowercase().chars().collect();
    if (1..=MAX_PATTERN).any(|p| lower.iter().skip(p).zip(&lower).all(|(a, b)| a == b)) {
        return Err(PasswordProblem::Repeated);
    }
    if is_run(&lower) {
        return Err(PasswordProblem::Sequence);
    }
    if is_common(password) {
        return Err(PasswordProblem::Common);
    }
    let name = user.to_lowercase();
    if name.chars().count() >= 3 && password.to_lowercase().contains(&name) {
        return Err(PasswordProblem::ContainsName);
    }
    Ok(())
}

/// Whether every character is the one before it plus one, or every one is
/// the one before it minus one.
fn is_run(chars: &[char]) -> bool {
    let step = |d: i64| {
        chars
            .windows(2)
            .all(|w| i64::from(u32::from(w[1])) - i64::from(u32::from(w[0])) == d)
    };
    step(1) || step(-1)
}

/// Whether `password` is on [`COMMON`], as it is or without the digits and
/// symbols around it (lower case, spaces removed).
fn is_common(password: &str) -> bool {
    let squeezed: String = password
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let core = squeezed.trim_matches(|c: char| !c.is_alphabetic());
    let spaced = password.trim().to_lowercase();
    [squeezed.as_str(), core, spaced.as_str()]
        .iter()
        .any(|form| !form.is_empty() && COMMON.contains(form))
}

/// Argon2id memory cost in KiB (OWASP's minimum for argon2id).
pub const ARGON2_M_KIB: u32 = 19_456;
/// Argon2id iterations.
pub const ARGON2_T: u32 = 2;
/// Argon2id parallelism.
pub const ARGON2_P: u32 = 1;

fn argon2() -> Result<Argon2<'static>> {
    let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None)
        .map_err(|e| Error::BadRequest(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `password` with argon2id (m=19456 KiB, t=2, p=1) and a random
/// salt, as a PHC string. Slow on purpose (tens of milliseconds): call it
/// off the async threads.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::BadRequest(format!("hashing the password: {e}")))
}

/// Whether `password` matches the PHC string `hash` (compared in constant
/// time). A malformed hash never matches. As slow as [`hash_password`].
pub fn verify_password(hash: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    // The parameters come from the stored hash; the algorithm is checked too.
    parsed.algorithm == argon2::ARGON2ID_IDENT
        && Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
}

/// A hash no password matches in practice, verified for unknown users so
/// that they cost the same time as a wrong password.
pub(crate) fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        hash_password(&crate::token::hex(&secret)).unwrap_or_default()
    })
}

/// A random password that passes [`check`] for any user name: four groups
/// of four characters from an alphabet without look-alikes (`a-z` less
/// `l` and `o`, digits less `0` and `1`) joined by `-`, about 79 bits from
/// the OS's random source. Given once to a person (a reset by an admin, a
/// demo account), who may change it.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    loop {
        let mut bytes = [0u8; 16];
        OsRng.fill_bytes(&mut bytes);
        let mut out = String::with_capacity(19);
        for (i, b) in bytes.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(char::from(ALPHABET[usize::from(b % 32)]));
        }
        // Practically never refused; a refused draw (a run, say) is drawn again.
        if check("", &out).is_ok() {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_passwords_pass_the_policy_and_differ() {
        let a = random_password();
        let b = random_password();
        assert_ne!(a, b);
        assert_eq!(a.len(), 19);
        assert!(check("demo-admin", &a).is_ok(), "{a}");
    }

    #[test]
    fn what_a_person_would_call_weak_is_refused_with_the_reason() {
        use PasswordProblem::*;
        let cases: &[(&str, &str, Option<PasswordProblem>)] = &[
            ("ayu", "short", Some(TooShort)),
            ("ayu", "          ", Some(Whitespace)),
            (
                "ayu",
                "\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\t\t\t\t\t\t",
                Some(Control),
            ),
            ("ayu", "aaaaaaaaaaaa", Some(Repeated)),
            ("ayu", "AAAAAaaaaaaa", Some(Repeated)),
            ("ayu", "abababababab", Some(Repeated)),
            ("ayu", "1231231231", Some(Repeated)),
            ("ayu", "0123456789", Some(Sequence)),
            ("ayu", "9876543210", Some(Sequence)),
            ("ayu", "abcdefghijk", Some(Sequence)),
            ("ayu", "password123", Some(Common)),
            ("ayu", "PASSWORD123", Some(Common)),
            ("ayu", "12345678910", Some(Common)),
            ("ayu", "qwertyuiop", Some(Common)),
            ("ayu", "qwerty2024!", Some(Common)),
            ("ayu", "Bismillah2024!", Some(Common)),
            ("ayu", "!!indonesia45", Some(Common)),
            ("ayu", "badung123", Some(TooShort)),
            ("ayu", "Badung12345", Some(Common)),
            ("ayu", "Om Swastiastu", Some(Common)),
            ("ayu", "kata sandi 2024", Some(Common)),
            ("ayu", "P@ssw0rd2024", Some(Common)),
            ("ayu.putri", "Ayu.Putri-2024", Some(ContainsName)),
            ("wayan", "password-wayan", Some(ContainsName)),
            ("WAYAN", "sayang wayan!", Some(ContainsName)),
            // Short names are not searched for: everything would contain them.
            ("ab", "kabupaten-ku-tercinta", None),
            ("ayu", "kata-sandi-rahasia", None),
            ("ayu", "correct horse battery staple", None),
            ("ayu", "bismillah lancar jaya 7", None),
            ("ayu", "leader-pass-4821", None),
        ];
        for (user, password, want) in cases {
            assert_eq!(check(user, password).err(), *want, "{user} {password:?}");
        }
    }

    #[test]
    fn messages_say_why_and_what_to_do_in_both_languages() {
        for p in [
            PasswordProblem::TooShort,
            PasswordProblem::Repeated,
            PasswordProblem::Common,
            PasswordProblem::ContainsName,
        ] {
            let m = p.to_string();
            assert!(
                m.contains("the password") && m.contains("kata sandi"),
                "{m}"
            );
            assert!(!m.contains('\n'), "{m}");
        }
        assert!(
            PasswordProblem::TooShort
                .to_string()
                .contains("at least 10")
        );
    }

    #[test]
    fn the_list_is_short_lower_case_and_has_the_local_favourites() {
        assert!(COMMON.len() <= 300, "{}", COMMON.len());
        for p in COMMON {
            assert_eq!(*p, p.to_lowercase());
        }
        for p in [
            "password123",
            "qwerty",
            "12345678",
            "bismillah",
            "indonesia",
            "badung123",
        ] {
            assert!(COMMON.contains(&p), "{p}");
        }
    }

    #[test]
    fn hashes_are_argon2id_with_the_required_cost() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "correct horse batterx"));
        assert!(!verify_password("garbage", "correct horse battery"));
    }
}
