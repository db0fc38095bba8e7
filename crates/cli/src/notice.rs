//! `notice publish`, `check`, `show`, `list` and `diff`.

use anyhow::{bail, Result};
use custody_core::notice::check::Severity;

use crate::args::NoticeCommand;
use crate::{output, Paths};

pub fn run(paths: &Paths, command: NoticeCommand) -> Result<()> {
    match command {
        NoticeCommand::Publish { org, file } => {
            let mut engine = paths.open()?;
            let p = engine.publish_notice(&org, &file)?;
            for f in &p.findings {
                eprintln!("warning: {}: {f}", file.display());
            }
            if p.unchanged {
                println!(
                    "{org} {} was already published with this content (sha256 {})",
                    p.notice.version, p.notice.content_hash
                );
            } else {
                println!(
                    "published {org} notice version {} (effective {}, {}, sha256 {})",
                    p.notice.version,
                    p.notice.effective_text(),
                    output::count(p.notice.declarations.len(), "declaration"),
                    p.notice.content_hash
                );
            }
            Ok(())
        }
        NoticeCommand::Check { file, json } => {
            let engine = paths.open()?;
            let (notice, findings) = engine.check_notice(&file)?;
            output::findings(&file, &notice, &findings, json);
            let errors = findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count();
            if errors > 0 {
                bail!("{}: {}", file.display(), output::count(errors, "error"));
            }
            Ok(())
        }
        NoticeCommand::Show {
            org,
            version,
            version_flag,
            json,
        } => {
            let engine = paths.open()?;
            let n = engine.notice(&org, version.or(version_flag).as_deref())?;
            output::notice(&engine.vocab, &n, json);
            Ok(())
        }
        NoticeCommand::List { org, json } => {
            let engine = paths.open()?;
            output::notice_list(&engine.notices(&org)?, json);
            Ok(())
        }
        NoticeCommand::Diff {
            org,
            from,
            to,
            json,
        } => {
            let engine = paths.open()?;
            output::diff(&engine.diff_notices(&org, &from, &to)?, json);
            Ok(())
        }
    }
}
