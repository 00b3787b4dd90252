//! The interactive SQL prompt of `causet sql`, with line editing and history.

use std::io::Write;
use std::path::PathBuf;

use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use crate::Analyzer;
use crate::error::{Error, Result};
use crate::output::{self, Format};

/// Where the prompt keeps its history.
fn history_file() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".causet_history"))
}

/// Reads statements until EOF (Ctrl-D) or `\q`, running each once it ends
/// with `;`. Each statement sees what was acknowledged when it started.
pub async fn run(
    analyzer: &Analyzer,
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let mut editor =
        DefaultEditor::new().map_err(|e| Error::Usage(format!("cannot start the prompt: {e}")))?;
    let history = history_file();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() {
            "causet> "
        } else {
            "     -> "
        };
        match editor.readline(prompt) {
            Ok(line) => {
                let trimmed = line.trim();
                if buffer.is_empty() && (trimmed == "\\q" || trimmed == "quit" || trimmed == "exit")
                {
                    break;
                }
                buffer.push_str(&line);
                buffer.push('\n');
                if !trimmed.ends_with(';') {
                    continue;
                }
                let statement = std::mem::take(&mut buffer);
                let _ = editor.add_history_entry(statement.trim());
                let result = match analyzer.refresh() {
                    Ok(()) => analyzer.run(&statement).await,
                    Err(e) => Err(e),
                };
                match result.and_then(|results| output::write(format, &results, out)) {
                    Ok(()) => {}
                    Err(e) => {
                        let _ = writeln!(err, "Error: {e}");
                    }
                }
            }
            Err(ReadlineError::Interrupted) => buffer.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(Error::Usage(format!("prompt: {e}"))),
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    Ok(())
}
