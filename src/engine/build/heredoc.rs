//! Here-documents in RUN, COPY and ADD as BuildKit finds them: `<<WORD` markers anywhere in
//! the instruction's line (`<<-` strips tabs, a quoted word turns expansion off) and bodies
//! read line by line after it. Text only; the caller decides what a body means.

use super::expand::{Lexer, VarList};
use super::instructions::HereDoc;

/// A `<<WORD` marker found in a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub name: String,
    pub expand: bool,
    pub chomp: bool,
}

/// Parses one word as a heredoc marker (`[fd]<<[-][space]WORD`); `None` if it is not one.
pub fn parse_marker(word: &str) -> Result<Option<Marker>, String> {
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let Some(rest) = rest.strip_prefix("<<") else { return Ok(None) };
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let rest = rest.trim_start_matches(char::is_whitespace);
    if rest.is_empty() || rest.contains('<') {
        return Ok(None);
    }
    let mut plain = Lexer::new('\\');
    plain.skip_unset = true;
    let words = plain.words(rest, &VarList::new()).map_err(|e| e.to_string())?;
    let [name] = words.as_slice() else { return Ok(None) };
    let mut raw = plain;
    raw.raw_quotes = true;
    let raw_words = raw.words(rest, &VarList::new()).map_err(|e| e.to_string())?;
    let quotes = |s: &str| s.chars().filter(|c| *c == '\'' || *c == '"').count();
    let expand = raw_words.first().is_some_and(|r| quotes(r) == quotes(name));
    Ok(Some(Marker { name: name.clone(), expand, chomp }))
}

/// The heredoc markers of an instruction line (continuations already joined), in order.
pub fn markers_in_line(line: &str) -> Result<Vec<Marker>, String> {
    if !line.contains("<<") {
        return Ok(Vec::new());
    }
    let mut lx = Lexer::new('\\');
    lx.raw_quotes = true;
    lx.raw_escapes = true;
    lx.skip_unset = true;
    // BuildKit ignores a lexing error here (the word list is then empty).
    let words = lx.words(line, &VarList::new()).unwrap_or_default();
    let mut out = Vec::new();
    for w in words {
        if let Some(m) = parse_marker(&w)? {
            out.push(m);
        }
    }
    Ok(out)
}

/// Reads the bodies of `markers` from `text` starting at byte `start` (the beginning of the
/// line after the instruction). Returns the heredocs and the offset just past the last
/// terminator line.
pub fn collect_bodies(text: &str, start: usize, markers: &[Marker]) -> Result<(Vec<HereDoc>, usize), String> {
    let mut pos = start;
    let mut docs = Vec::with_capacity(markers.len());
    for m in markers {
        let mut content = String::new();
        let mut terminated = false;
        while pos < text.len() {
            let rest = text.get(pos..).unwrap_or_default();
            let line = match rest.find('\n') {
                Some(i) => rest.get(..=i).unwrap_or(rest),
                None => rest,
            };
            pos += line.len();
            let mut candidate = line.trim_end_matches(['\r', '\n']);
            if m.chomp {
                candidate = candidate.trim_start_matches('\t');
            }
            if candidate == m.name {
                terminated = true;
                break;
            }
            content.push_str(line);
        }
        if !terminated {
            return Err(format!("unterminated heredoc <<{}: add a line containing only \"{}\"", m.name, m.name));
        }
        docs.push(HereDoc { name: m.name.clone(), content, expand: m.expand, chomp: m.chomp });
    }
    Ok((docs, pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, expand: bool, chomp: bool) -> Marker {
        Marker { name: name.into(), expand, chomp }
    }

    #[test]
    fn markers() {
        let cases: &[(&str, Option<Marker>)] = &[
            ("<<EOF", Some(m("EOF", true, false))),
            ("<<-EOF", Some(m("EOF", true, true))),
            ("<<'EOF'", Some(m("EOF", false, false))),
            ("<<\"EOF\"", Some(m("EOF", false, false))),
            ("<<e'o'f", Some(m("eof", false, false))),
            ("<<eo\\'f", Some(m("eo'f", true, false))),
            ("3<<EOF", Some(m("EOF", true, false))),
            ("<<$EOF", Some(m("$EOF", true, false))),
            ("<<", None),
            ("<<''", None),
            ("<<-", None),
            ("cat<<EOF", None),
            ("EOF", None),
            ("<<'one two'", Some(m("one two", false, false))),
        ];
        for (word, want) in cases {
            assert_eq!(parse_marker(word).unwrap(), *want, "word {word:?}");
        }
    }

    #[test]
    fn markers_in_lines() {
        let names = |l: &str| markers_in_line(l).unwrap().into_iter().map(|m| m.name).collect::<Vec<_>>();
        assert_eq!(names("RUN <<EOF1 <<EOF2"), ["EOF1", "EOF2"]);
        assert_eq!(names("RUN cat <<EOF > /etc/x"), ["EOF"]);
        assert_eq!(names("RUN python3 <<'PY' | tee log"), ["PY"]);
        assert!(names("RUN echo \"<<EOF\"").is_empty());
        assert!(names("RUN echo '<<EOF'").is_empty());
        assert!(names("RUN echo a<<b").is_empty());
        assert!(names("RUN ls").is_empty());
    }

    #[test]
    fn bodies() {
        let text = "RUN x\nline 1\n\tline 2\nEOF1\nsecond\n\tEOF2\nFROM next\n";
        let markers = [m("EOF1", true, false), m("EOF2", true, true)];
        let (docs, end) = collect_bodies(text, 6, &markers).unwrap();
        assert_eq!(docs[0].content, "line 1\n\tline 2\n");
        assert_eq!(docs[1].content, "second\n");
        assert_eq!(&text[end..], "FROM next\n");
        let err = collect_bodies("a\nb\n", 0, &[m("END", true, false)]).unwrap_err();
        assert!(err.contains("unterminated heredoc <<END"), "{err}");
    }

    #[test]
    fn chomped_body() {
        let d = HereDoc { name: "E".into(), content: "\t\ta\n\tb\nc\n".into(), expand: true, chomp: true };
        assert_eq!(d.body(), "a\nb\nc\n");
        let d = HereDoc { chomp: false, ..d };
        assert_eq!(d.body(), "\t\ta\n\tb\nc\n");
    }

    #[test]
    fn terminator_at_eof_without_newline() {
        let (docs, end) = collect_bodies("hi\nEOF", 0, &[m("EOF", true, false)]).unwrap();
        assert_eq!(docs[0].content, "hi\n");
        assert_eq!(end, 6);
    }
}
