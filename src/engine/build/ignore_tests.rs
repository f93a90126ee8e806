//! Pattern tests in the style of moby's patternmatcher tables (our own cases).

use super::*;

fn rules(p: &[&str]) -> IgnoreRules {
    IgnoreRules::new(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>(), ".dockerignore").unwrap()
}

/// `(pattern, path, excluded)`: one pattern against one path (parents count).
const SINGLE: &[(&str, &str, bool)] = &[
    ("**", "file", true),
    ("**", "file/", true),
    ("**/", "file", true),
    ("**/", "file/", true),
    ("**", "/", true),
    ("**/", "/", true),
    ("**", "dir/file", true),
    ("**/", "dir/file", true),
    ("**", "dir/file/", true),
    ("**/", "dir/file/", true),
    ("**/**", "dir/file", true),
    ("**/**", "dir/file/", true),
    ("dir/**", "dir/file", true),
    ("dir/**", "dir/file/", true),
    ("dir/**", "dir/dir2/file", true),
    ("dir/**", "dir/dir2/file/", true),
    ("**/dir", "dir", true),
    ("**/dir", "dir/file", true),
    ("**/dir2/*", "dir/dir2/file", true),
    ("**/dir2/*", "dir/dir2/file/", true),
    ("**/dir2/**", "dir/dir2/dir3/file", true),
    ("**/dir2/**", "dir/dir2/dir3/file/", true),
    ("**file", "file", true),
    ("**file", "dir/file", true),
    ("**/file", "dir/file", true),
    ("**file", "dir/dir/file", true),
    ("**/file", "dir/dir/file", true),
    ("**/file*", "dir/dir/file", true),
    ("**/file*", "dir/dir/file.txt", true),
    ("**/file*txt", "dir/dir/file.txt", true),
    ("**/file*.txt", "dir/dir/file.txt", true),
    ("**/file*.txt*", "dir/dir/file.txt", true),
    ("**/**/*.txt", "dir/dir/file.txt", true),
    ("**/**/*.txt2", "dir/dir/file.txt", false),
    ("**/*.txt", "file.txt", true),
    ("**/**/*.txt", "file.txt", true),
    ("a**/*.txt", "a/file.txt", true),
    ("a**/*.txt", "a/dir/file.txt", true),
    ("a**/*.txt", "a/dir/dir/file.txt", true),
    ("a/*.txt", "a/dir/file.txt", false),
    ("a/*.txt", "a/file.txt", true),
    ("a/*.txt**", "a/file.txt", true),
    ("a[b-d]e", "ae", false),
    ("a[b-d]e", "ace", true),
    ("a[b-d]e", "aae", false),
    ("a[^b-d]e", "aze", true),
    (".*", ".foo", true),
    (".*", "foo", false),
    ("abc.def", "abcdef", false),
    ("abc.def", "abc.def", true),
    ("abc.def", "abcZdef", false),
    ("abc?def", "abcZdef", true),
    ("abc?def", "abcdef", false),
    ("a\\\\", "a\\", true),
    ("**/foo/bar", "foo/bar", true),
    ("**/foo/bar", "dir/foo/bar", true),
    ("**/foo/bar", "dir/dir2/foo/bar", true),
    ("abc/**", "abc", false),
    ("abc/**", "abc/def", true),
    ("abc/**", "abc/def/ghi", true),
    ("**/.foo", ".foo", true),
    ("**/.foo", "bar.foo", false),
    ("a(b)c/def", "a(b)c/def", true),
    ("a(b)c/def", "a(b)c/xyz", false),
    ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
    ("dist", "dist/app.js", true),
    ("dist", "src/dist", false),
    ("*/temp", "somedir/temp", true),
    ("*/temp", "somedir/sub/temp", false),
    ("*/*/temp", "somedir/sub/temp", true),
    ("temp?", "tempa", true),
    ("temp?", "temp/a", false),
    ("*.md", "README.md", true),
    ("*.md", "docs/README.md", false),
    ("/abs/path", "abs/path", true),
    ("./rel/../x", "x", true),
    ("x/", "x/y", true),
];

#[test]
fn single_patterns() {
    for (pattern, path, want) in SINGLE {
        let pat = read_patterns(pattern);
        let r = IgnoreRules::new(&pat, "t").unwrap();
        assert_eq!(r.matches(path), *want, "pattern {pattern:?} path {path:?}");
    }
}

#[test]
fn exceptions_and_order() {
    let r = rules(&["*.md", "!README.md"]);
    assert!(r.matches("CHANGES.md"));
    assert!(!r.matches("README.md"));
    let r = rules(&["!README.md", "*.md"]);
    assert!(r.matches("README.md"), "the last matching pattern wins");
    let r = rules(&["docs", "!docs/keep.txt"]);
    assert!(r.matches("docs/other.txt"));
    assert!(!r.matches("docs/keep.txt"));
    assert!(r.matches("docs"), "the directory itself stays excluded");
    assert!(r.may_include_under("docs"));
    assert!(!rules(&["docs", "!other/x"]).may_include_under("docs"));
    assert!(rules(&["docs", "!**/*.txt"]).may_include_under("docs"));
    assert!(rules(&["a", "!a/*/keep"]).may_include_under("a/b"));
    assert!(!rules(&["a", "!a/*/keep"]).may_include_under("a/b/c"));
    let r = rules(&["**", "!src", "src/**/*.tmp"]);
    assert!(r.matches("node_modules/x"));
    assert!(!r.matches("src/main.rs"));
    assert!(r.matches("src/deep/file.tmp"));
}

#[test]
fn exception_of_a_parent_includes_children() {
    let r = rules(&["*", "!app"]);
    assert!(!r.matches("app/main.py"));
    assert!(r.matches("secrets.txt"));
}

#[test]
fn reading_the_file() {
    let text = "\u{feff}# comment\n  node_modules  \n\n!  keep.me\n/abs/x\n./a/../b/\n #not a comment\n*.log\n";
    assert_eq!(read_patterns(text), ["node_modules", "!keep.me", "abs/x", "b", "#not a comment", "*.log"]);
}

#[test]
fn bad_patterns() {
    let bad = |p: &str| IgnoreRules::new(&[p.to_string()], ".dockerignore").unwrap_err().to_string();
    assert!(bad("!").contains("lone \"!\""));
    assert!(bad("a[").starts_with(".dockerignore: invalid pattern \"a[\": unterminated"));
    assert!(bad("[z-a]").contains("bad range"));
    assert!(IgnoreRules::new(&["".into(), "  ".into()], "t").unwrap().is_empty());
}

#[test]
fn clean_is_go_filepath_clean() {
    for (i, o) in [
        ("", "."),
        ("a/./b/", "a/b"),
        ("a/../..", ".."),
        ("/../a", "/a"),
        ("a//b", "a/b"),
        ("./", "."),
        ("../x/../y", "../y"),
    ] {
        assert_eq!(clean(i), o, "{i}");
    }
}

#[test]
fn finds_the_ignore_file_in_order() {
    let d = std::env::temp_dir().join(format!("kiste-ignore-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("ctx")).unwrap();
    let ctx = d.join("ctx");
    let df = d.join("build.Containerfile");
    assert_eq!(find_ignore_file(&ctx, Some(&df)), None);
    std::fs::write(ctx.join(".dockerignore"), "a\n").unwrap();
    assert_eq!(find_ignore_file(&ctx, Some(&df)), Some(ctx.join(".dockerignore")));
    std::fs::write(ctx.join(".containerignore"), "b\n").unwrap();
    assert_eq!(find_ignore_file(&ctx, Some(&df)), Some(ctx.join(".containerignore")));
    std::fs::write(d.join("build.Containerfile.dockerignore"), "c\n").unwrap();
    assert_eq!(find_ignore_file(&ctx, Some(&df)), Some(d.join("build.Containerfile.dockerignore")));
    let r = IgnoreRules::load(&ctx, Some(&df)).unwrap();
    assert!(r.matches("c") && !r.matches("a"));
    std::fs::remove_dir_all(&d).unwrap();
}
