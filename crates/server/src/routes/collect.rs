//! Collection: a JSON batch of records, or a CSV or Parquet file upload,
//! each with a mapping (README: Collection mapping). The engine reads files,
//! so a batch becomes a CSV file in a temporary place first; either way the
//! whole batch lands in one transaction or nothing does. The answer carries
//! each new record's access code, to hand on to the person.

use std::collections::BTreeMap;
use std::io::Write;

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::Json;
use custody_core::mapping::MappingSource;
use custody_core::time::parse_instant;
use custody_engine::collection::{CollectSpec, Collected};
use custody_engine::table::Format;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::extract::{parse_json, ApiJson, ApiPath};
use crate::problem::{from_engine, in_file, FieldError, Kind, Problem};
use crate::state::{AppState, Backend};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectBatch {
    /// The notice version the records were collected under.
    pub notice: String,
    /// For records without a collection time column; default now.
    pub collected_at: Option<String>,
    /// Which field is the subject, which are personal data of which category,
    /// which are consent flags (as a mapping file, in JSON).
    #[schema(value_type = Object)]
    pub mapping: MappingSource,
    /// The records: objects of strings, numbers or booleans.
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<BTreeMap<String, serde_json::Value>>,
}

/// An access code, to hand to the person it belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessCode {
    pub subject: String,
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollectedView {
    pub org: String,
    pub notice: String,
    pub collection: i64,
    pub rows: u64,
    pub inserted: u64,
    /// Subjects the organisation already held: left as they were.
    pub already_held: u64,
    /// The access code of every record in the request (absent for uploads
    /// unless asked with `codes=true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codes: Option<Vec<AccessCode>>,
}

fn view(c: Collected, codes: Option<Vec<(String, String)>>) -> CollectedView {
    CollectedView {
        org: c.org,
        notice: c.notice,
        collection: c.collection,
        rows: c.rows,
        inserted: c.inserted,
        already_held: c.already_held,
        codes: codes.map(|v| {
            v.into_iter()
                .map(|(subject, code)| AccessCode { subject, code })
                .collect()
        }),
    }
}

fn internal(e: std::io::Error) -> Problem {
    tracing::error!(error = %e, "temporary file");
    Problem::new(Kind::Internal, "the server could not complete the request")
}

fn instant(field: &str, s: Option<&str>) -> Result<Option<custody_core::time::Instant>, Problem> {
    s.map(|s| parse_instant(s).map_err(|e| Problem::field(Kind::Validation, field, e.to_string())))
        .transpose()
}

/// The batch as CSV: the columns the mapping names, then any others.
fn batch_csv(b: &CollectBatch) -> Result<(Vec<u8>, Vec<String>), Problem> {
    let mut header: Vec<String> = vec![b.mapping.subject.clone()];
    header.extend(b.mapping.collected_at.iter().cloned());
    header.extend(b.mapping.columns.keys().cloned());
    header.extend(b.mapping.consents.values().cloned());
    for r in &b.records {
        header.extend(r.keys().cloned());
    }
    let mut seen = std::collections::HashSet::new();
    header.retain(|h| seen.insert(h.clone()));
    let mut errors = Vec::new();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).map_err(|e| internal(e.into()))?;
    let mut subjects = Vec::with_capacity(b.records.len());
    for (i, r) in b.records.iter().enumerate() {
        let row: Vec<String> = header
            .iter()
            .map(|h| match r.get(h) {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => {
                    v.to_string()
                }
                Some(_) => {
                    errors.push(FieldError {
                        field: format!("records[{i}].{h}"),
                        message: "must be a string, number, boolean or null".into(),
                    });
                    String::new()
                }
            })
            .collect();
        subjects.push(row[0].trim().to_string());
        w.write_record(&row).map_err(|e| internal(e.into()))?;
    }
    if !errors.is_empty() {
        return Err(
            Problem::new(Kind::Validation, "some record fields are not plain values")
                .with_errors(errors),
        );
    }
    if b.records.is_empty() {
        return Err(Problem::field(Kind::Validation, "records", "no records"));
    }
    Ok((
        w.into_inner().map_err(|e| internal(e.into_error()))?,
        subjects,
    ))
}

#[utoipa::path(post, path = "/v1/orgs/{org}/collections", tag = "collection",
    params(("org" = String, Path)), security(("bearer" = [])), request_body = CollectBatch,
    responses((status = 201, body = CollectedView), (status = 422, body = Problem), (status = 413, body = Problem)))]
pub async fn batch<S: Backend>(
    State(st): State<AppState<S>>,
    ApiPath(org): ApiPath<String>,
    ApiJson(b): ApiJson<CollectBatch>,
) -> Result<(StatusCode, Json<CollectedView>), Problem> {
    let at = instant("collected_at", b.collected_at.as_deref())?;
    let (csv, subjects) = batch_csv(&b)?;
    let mut file = tempfile::Builder::new()
        .suffix(".csv")
        .tempfile()
        .map_err(internal)?;
    file.write_all(&csv).map_err(internal)?;
    let v = st
        .write(move |e| {
            let spec = CollectSpec {
                org: &org,
                records: file.path(),
                mapping: None,
                mapping_source: Some(&b.mapping),
                name: Some("api:batch"),
                notice: &b.notice,
                collected_at: at,
                rejects: None,
                format: Some(Format::Csv),
            };
            // Line 1 is the header: record i is line i + 2.
            let locate = |line: u64, field: &str| {
                if line >= 2 {
                    format!("records[{}].{field}", line - 2)
                } else {
                    field.to_string()
                }
            };
            let c = e
                .collect(&spec, &custody_engine::Silent)
                .map_err(|err| from_engine(err, &locate))?;
            let codes = e.access_codes(&org, &subjects)?;
            Ok(view(c, Some(codes)))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// The multipart form of an upload (documentation only; read field by field).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct Upload {
    /// The notice version.
    notice: String,
    /// The mapping, as TOML (a mapping file) or JSON.
    mapping: String,
    /// The records file; `.parquet`/`.pq` names are read as Parquet, else CSV.
    #[schema(value_type = String, format = Binary)]
    records: Vec<u8>,
    /// csv or parquet, overriding the file name.
    format: Option<String>,
    collected_at: Option<String>,
    /// `true`: answer with every record's access code.
    codes: Option<String>,
}

#[utoipa::path(post, path = "/v1/orgs/{org}/collections/upload", tag = "collection",
    params(("org" = String, Path)), security(("bearer" = [])),
    request_body(content = Upload, content_type = "multipart/form-data"),
    responses((status = 201, body = CollectedView), (status = 422, body = Problem), (status = 413, body = Problem)))]
pub async fn upload<S: Backend>(
    State(st): State<AppState<S>>,
    ApiPath(org): ApiPath<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, Json<CollectedView>), Problem> {
    let mut multipart = multipart.map_err(|e| {
        Problem::new(
            Kind::UnsupportedMediaType,
            format!("send multipart/form-data: {}", e.body_text()),
        )
    })?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(Kind::PayloadTooLarge, "the upload is over the limit")
        } else if crate::connections::timed_out(&e) {
            crate::extract::body_timed_out()
        } else {
            Problem::new(Kind::InvalidRequest, e.body_text())
        }
    };
    let (mut notice, mut mapping, mut format, mut collected_at, mut codes) =
        (None, None, None, None, false);
    let mut file = None;
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "records" => {
                let parquet = field
                    .file_name()
                    .map(|n| {
                        let n = n.to_ascii_lowercase();
                        n.ends_with(".parquet") || n.ends_with(".pq")
                    })
                    .unwrap_or(false);
                let mut tmp = tempfile::Builder::new()
                    .suffix(if parquet { ".parquet" } else { ".csv" })
                    .tempfile()
                    .map_err(internal)?;
                // Streamed to disk chunk by chunk: the limit bounds it, not memory.
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    tmp.write_all(&chunk).map_err(internal)?;
                }
                file = Some((tmp, parquet));
            }
            "notice" | "mapping" | "format" | "collected_at" | "codes" => {
                let text = field.text().await.map_err(bad)?;
                match name.as_str() {
                    "notice" => notice = Some(text),
                    "mapping" => mapping = Some(text),
                    "format" => format = Some(text),
                    "collected_at" => collected_at = Some(text),
                    _ => codes = text.trim() == "true",
                }
            }
            other => {
                return Err(Problem::field(
                    Kind::Validation,
                    other.to_string(),
                    "unknown field (notice, mapping, records, format, collected_at, codes)",
                ))
            }
        }
    }
    let missing = |f: &str| Problem::field(Kind::Validation, f, "missing");
    let notice = notice.ok_or_else(|| missing("notice"))?;
    let mapping = mapping.ok_or_else(|| missing("mapping"))?;
    let (file, parquet) = file.ok_or_else(|| missing("records"))?;
    let mapping: MappingSource = if mapping.trim_start().starts_with('{') {
        parse_json(mapping.as_bytes())?
    } else {
        custody_core::mapping::parse_source("mapping", &mapping)
            .map_err(|e| Problem::field(Kind::InvalidMapping, "mapping", e.message))?
    };
    let format = match format.as_deref() {
        Some(f) => f
            .parse::<Format>()
            .map_err(|m| Problem::field(Kind::Validation, "format", m))?,
        None if parquet => Format::Parquet,
        None => Format::Csv,
    };
    let at = instant("collected_at", collected_at.as_deref())?;
    let v = st
        .write(move |e| {
            let spec = CollectSpec {
                org: &org,
                records: file.path(),
                mapping: None,
                mapping_source: Some(&mapping),
                name: Some("api:upload"),
                notice: &notice,
                collected_at: at,
                rejects: None,
                format: Some(format),
            };
            let c = e
                .collect(&spec, &custody_engine::Silent)
                .map_err(|err| from_engine(err, &in_file))?;
            let codes = if codes {
                let subjects = upload_subjects(file.path(), format, &mapping.subject)?;
                Some(e.access_codes(&org, &subjects)?)
            } else {
                None
            };
            Ok(view(c, codes))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// The subjects of an uploaded file, in order, once each.
fn upload_subjects(
    path: &std::path::Path,
    format: Format,
    column: &str,
) -> Result<Vec<String>, Problem> {
    let mut r = custody_engine::table::RowReader::open(path, format)?;
    let col = r.header().iter().position(|h| h == column).unwrap_or(0);
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut rec = csv::StringRecord::new();
    while r.read(&mut rec)? {
        let s = rec.get(col).unwrap_or("").trim().to_string();
        if seen.insert(s.clone()) {
            out.push(s);
        }
    }
    Ok(out)
}
