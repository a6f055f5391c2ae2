//! `bsc import`: a file as a new published version of a layer.

use std::fs::File;
use std::io::Read;
use std::process::ExitCode;

use layers::Store;
use layers::ingest::Limits;
use layers::model::LayerSpec;

use crate::cli::ImportArgs;

/// Imports `args.file` and prints the report.
pub async fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let shown = args.file.display().to_string();
    let stdin = args.file.as_os_str() == "-";
    let format = match args.format {
        Some(f) => f,
        None if stdin => layers::ingest::Format::GeoJson,
        None => {
            let mut head = vec![0u8; 4096];
            let n = File::open(&args.file)
                .and_then(|mut f| f.read(&mut head))
                .map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
            head.truncate(n);
            let name = args
                .file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            layers::ingest::Format::detect(name.as_deref(), None, &head).ok_or_else(|| {
                anyhow::anyhow!("{shown}: cannot tell the format; name it with --format")
            })?
        }
    };
    if stdin && format != layers::ingest::Format::GeoJson {
        anyhow::bail!("only GeoJSON can be read from standard input; save the file and name it");
    }
    let store = Store::open(&args.db.database).await?;
    let spec = LayerSpec {
        about: None,
        style: None,
        id: args.layer.clone(),
        category: args.category.clone(),
        title_id: args.title_id.clone(),
        title_en: args.title_en.clone(),
        agency: args.agency.clone(),
        visibility: args.visibility,
        source_name: args
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned()),
    };
    let limits = Limits {
        max_features: args.max_features,
        max_vertices: args.max_vertices,
        ..Limits::default()
    };
    let result = if stdin {
        layers::staging::import_geojson(&store, &spec, std::io::stdin(), limits).await
    } else {
        layers::staging::import_path(&store, &spec, &args.file, format, limits).await
    };
    store.close().await;
    match result {
        Ok(report) => {
            if args.json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                let types: Vec<String> = report
                    .geometry_types
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect();
                println!(
                    "imported {} features into {} version {} ({}) in {:.2} s",
                    report.features,
                    report.layer,
                    report.version,
                    types.join(", "),
                    report.seconds
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(layers::Error::Invalid { problems, count }) => {
            // In the terminal's language (LANG), English by default.
            let lang = layers::text::Lang::from_env();
            for p in &problems {
                eprintln!("{shown}: {}", p.said(lang));
            }
            let more = count.saturating_sub(problems.len());
            match lang {
                layers::text::Lang::Id => {
                    if more > 0 {
                        eprintln!("{shown}: ... dan {more} masalah lagi");
                    }
                    eprintln!("error: {shown}: {count} masalah, tidak ada yang diimpor");
                }
                layers::text::Lang::En => {
                    if more > 0 {
                        eprintln!("{shown}: ... and {more} more problem(s)");
                    }
                    eprintln!("error: {shown}: {count} problem(s), nothing imported");
                }
            }
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(anyhow::anyhow!("{shown}: {e}")),
    }
}
