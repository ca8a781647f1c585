//! JSON values to YAML text, byte for byte as kustomize prints them.
//!
//! kustomize turns each object into JSON and hands it to go-yaml v2, so its output has v2's
//! shape: map keys in v2's "natural" order (digit runs compare as numbers), block style,
//! sequences not indented under their key, two-space indentation, lines folded at spaces
//! past column 80, and v2's choice of scalar style: strings that would read back as
//! something else are double-quoted, strings plain YAML cannot hold are single-quoted,
//! multi-line strings are literal blocks. The emitter below is a small state machine with
//! the same layout rules (indentation, whitespace and column tracking) as libyaml's.

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use super::resolve::{format_float, needs_quotes_v2};

/// Lines are folded at a space once they pass this column.
const BEST_WIDTH: usize = 80;
/// Indentation step.
const BEST_INDENT: i64 = 2;
/// Longest key (in bytes) written as `key: value`; longer ones use `? key`.
const MAX_SIMPLE_KEY: usize = 128;

/// The style a scalar is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// Prints one document (one object) as go-yaml v2 marshals it, ending with a newline.
pub(crate) fn emit_document(value: &Value, out: &mut String) {
    let mut e = Emitter {
        out,
        column: 0,
        indent: -1,
        indents: Vec::new(),
        whitespace: true,
        indention: true,
        flow_level: 0,
    };
    e.node(value, Ctx::ROOT);
    // Document end: finish the last line.
    e.write_indent_for_end();
}

#[derive(Debug, Clone, Copy)]
struct Ctx {
    mapping: bool,
    simple_key: bool,
}

impl Ctx {
    const ROOT: Ctx = Ctx {
        mapping: false,
        simple_key: false,
    };
}

struct Emitter<'o> {
    out: &'o mut String,
    column: usize,
    indent: i64,
    indents: Vec<i64>,
    whitespace: bool,
    indention: bool,
    flow_level: usize,
}

impl Emitter<'_> {
    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indent_for_end(&mut self) {
        // libyaml's document end writes an indent at level -1 (treated as 0).
        self.indent = -1;
        self.write_indent();
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for c in indicator.chars() {
            self.put(c);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn node(&mut self, value: &Value, ctx: Ctx) {
        match value {
            Value::Object(map) if map.is_empty() => self.empty_flow("{", "}"),
            Value::Array(items) if items.is_empty() => self.empty_flow("[", "]"),
            Value::Object(map) => self.block_mapping(map),
            Value::Array(items) => self.block_sequence(items, ctx),
            Value::Null => self.scalar("null", Style::Plain, ctx),
            Value::Bool(b) => self.scalar(if *b { "true" } else { "false" }, Style::Plain, ctx),
            Value::Number(n) => self.scalar(&number_text(n), Style::Plain, ctx),
            Value::String(s) => {
                let style = if s.contains('\n') {
                    Style::Literal
                } else if needs_quotes_v2(s) {
                    Style::Double
                } else {
                    Style::Plain
                };
                self.scalar(s, style, ctx)
            }
        }
    }

    fn empty_flow(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.increase_indent(true, false);
        self.flow_level += 1;
        self.flow_level -= 1;
        self.pop_indent();
        self.write_indicator(close, false, false, false);
    }

    fn block_sequence(&mut self, items: &[Value], ctx: Ctx) {
        self.increase_indent(false, ctx.mapping && !self.indention);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.node(
                item,
                Ctx {
                    mapping: false,
                    simple_key: false,
                },
            );
        }
        self.pop_indent();
    }

    fn block_mapping(&mut self, map: &Map<String, Value>) {
        self.increase_indent(false, false);
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort_by(|a, b| natural_cmp(a, b));
        for key in keys {
            let value = &map[key.as_str()];
            self.write_indent();
            let key_value = Value::String(key.clone());
            if is_simple_key(key) {
                self.node(
                    &key_value,
                    Ctx {
                        mapping: true,
                        simple_key: true,
                    },
                );
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.node(
                    &key_value,
                    Ctx {
                        mapping: true,
                        simple_key: false,
                    },
                );
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.node(
                value,
                Ctx {
                    mapping: true,
                    simple_key: false,
                },
            );
        }
        self.pop_indent();
    }

    fn scalar(&mut self, text: &str, requested: Style, ctx: Ctx) {
        let analysis = analyze(text);
        let mut style = requested;
        if ctx.simple_key && analysis.multiline {
            style = Style::Double;
        }
        if style == Style::Plain {
            let allowed = if self.flow_level > 0 {
                analysis.flow_plain_allowed
            } else {
                analysis.block_plain_allowed
            };
            if !allowed || (text.is_empty() && (self.flow_level > 0 || ctx.simple_key)) {
                style = Style::Single;
            }
        }
        if style == Style::Single && !analysis.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal
            && (!analysis.block_allowed || self.flow_level > 0 || ctx.simple_key)
        {
            style = Style::Double;
        }
        self.increase_indent(true, false);
        let allow_breaks = !ctx.simple_key;
        match style {
            Style::Plain => self.write_plain(text, allow_breaks),
            Style::Single => self.write_single_quoted(text, allow_breaks),
            Style::Double => self.write_double_quoted(text, allow_breaks),
            Style::Literal => self.write_literal(text),
        }
        self.pop_indent();
    }

    fn write_plain(&mut self, text: &str, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        let mut breaks = false;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !next_space {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
            i += 1;
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn write_single_quoted(&mut self, text: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        let mut breaks = false;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i < chars.len() - 1
                    && !next_space
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
            i += 1;
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted(&mut self, text: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                match c {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{b}' => self.put('v'),
                    '\u{c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    _ => {
                        let v = c as u32;
                        let (letter, width) = if v <= 0xFF {
                            ('x', 2)
                        } else if v <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(letter);
                        for ch in format!("{v:0width$X}").chars() {
                            self.put(ch);
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i < chars.len() - 1
                {
                    self.write_indent();
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
            i += 1;
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, text: &str) {
        self.write_indicator("|", true, false, false);
        // Block scalar hints: an indentation indicator when the text starts with a space or
        // a line break, then the chomping indicator.
        let first = text.chars().next();
        if first.is_some_and(|c| c == ' ' || is_break(c)) {
            self.write_indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        let mut rev = text.chars().rev();
        let last = rev.next();
        let chomp = match last {
            None => Some("-"),
            Some(c) if !is_break(c) => Some("-"),
            Some(_) => match rev.next() {
                None => Some("+"),
                Some(c) if is_break(c) => Some("+"),
                Some(_) => None,
            },
        };
        if let Some(chomp) = chomp {
            self.write_indicator(chomp, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in text.chars() {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

fn is_simple_key(key: &str) -> bool {
    !key.chars().any(is_break) && key.len() <= MAX_SIMPLE_KEY
}

fn number_text(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        format_float(n.as_f64().unwrap_or(0.0))
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_printable(c: char) -> bool {
    let v = c as u32;
    c == '\n'
        || (0x20..=0x7E).contains(&v)
        || (0xA0..=0xD7FF).contains(&v)
        || ((0xE000..=0xFFFD).contains(&v) && v != 0xFEFF)
}

fn is_blank_or_break(c: char) -> bool {
    c == ' ' || c == '\t' || is_break(c)
}

/// What libyaml's scalar analysis concludes about a string.
#[derive(Debug, Clone, Copy)]
struct Analysis {
    multiline: bool,
    flow_plain_allowed: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn analyze(text: &str) -> Analysis {
    if text.is_empty() {
        return Analysis {
            multiline: false,
            flow_plain_allowed: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = text.chars().collect();
    let mut block_indicators = false;
    let mut flow_indicators = false;
    let mut line_breaks = false;
    let mut special_characters = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut previous_space = false;
    let mut previous_break = false;

    if text.starts_with("---") || text.starts_with("...") {
        block_indicators = true;
        flow_indicators = true;
    }
    let mut preceded_by_whitespace = true;
    let n = chars.len();
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = i + 1 >= n || is_blank_or_break(chars[i + 1]);
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                '?' | ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '-' if followed_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_indicators = true,
                ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '#' if preceded_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        }
        if !is_printable(c) {
            special_characters = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + 1 == n {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i + 1 == n {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blank_or_break(c);
    }
    let mut a = Analysis {
        multiline: line_breaks,
        flow_plain_allowed: true,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special_characters {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if flow_indicators {
        a.flow_plain_allowed = false;
    }
    if block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// go-yaml v2's map key order: letters compare as characters and sort after everything
/// else, runs of digits compare by numeric value, shorter strings first on a tie.
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    if natural_less(a, b) {
        Ordering::Less
    } else if natural_less(b, a) {
        Ordering::Greater
    } else {
        a.cmp(b)
    }
}

fn natural_less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return bl;
        }
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an
                .wrapping_mul(10)
                .wrapping_add(i64::from(ar[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(i64::from(br[bi] as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn yaml(v: Value) -> String {
        let mut out = String::new();
        emit_document(&v, &mut out);
        out
    }

    #[test]
    fn scalars_are_quoted_as_go_yaml_v2_quotes_them() {
        let cases: &[(&str, &str)] = &[
            ("yes", "\"yes\""),
            ("012", "\"012\""),
            ("true", "\"true\""),
            ("- a", "'- a'"),
            (" lead", "' lead'"),
            ("trail ", "'trail '"),
            ("a: b", "'a: b'"),
            ("a #b", "'a #b'"),
            ("#x", "'#x'"),
            ("", "\"\""),
            ("x\ty", "\"x\\ty\""),
            ("a'b", "a'b"),
            ("'a", "'''a'"),
            (":a", ":a"),
            ("a:", "'a:'"),
            ("...", "'...'"),
            ("---", "'---'"),
            ("a\r\nb", "\"a\\r\\nb\""),
            ("é", "é"),
            ("\u{1}", "\"\\x01\""),
            ("2001-12-14", "\"2001-12-14\""),
            ("+inf", "+inf"),
            ("<<", "<<"),
        ];
        for (input, want) in cases {
            assert_eq!(
                yaml(json!({ "k": input })),
                format!("k: {want}\n"),
                "{input:?}"
            );
        }
    }

    #[test]
    fn multi_line_strings_are_literal_blocks_with_kustomize_chomping() {
        assert_eq!(yaml(json!({"k": "a\nb"})), "k: |-\n  a\n  b\n");
        assert_eq!(yaml(json!({"k": "a\nb\n"})), "k: |\n  a\n  b\n");
        assert_eq!(yaml(json!({"k": "a\nb\n\n"})), "k: |+\n  a\n  b\n\n");
        assert_eq!(yaml(json!({"k": "\na"})), "k: |2-\n\n  a\n");
        assert_eq!(yaml(json!({"k": " a\nb"})), "k: |2-\n   a\n  b\n");
        assert_eq!(
            yaml(json!({"k": "trailing \nspace"})),
            "k: \"trailing \\nspace\"\n"
        );
    }

    #[test]
    fn long_plain_strings_fold_past_column_80() {
        let long = "long ".repeat(27).trim_end().to_owned();
        let out = yaml(json!({"data": {"i6": long}}));
        assert_eq!(
            out,
            "data:\n  i6: long long long long long long long long long long long long long long long long\n    long long long long long long long long long long long\n"
        );
    }

    #[test]
    fn layout_matches_kustomize() {
        let v = json!({
            "kind": "Deployment",
            "spec": {"containers": [{"name": "a", "args": ["x", "y"]}, {"name": "b"}],
                     "empty": {}, "none": [], "nested": [["a"]], "n": null, "f": 1.5, "i": 3}
        });
        assert_eq!(
            yaml(v),
            "kind: Deployment\nspec:\n  containers:\n  - args:\n    - x\n    - \"y\"\n    name: a\n  - name: b\n  empty: {}\n  f: 1.5\n  i: 3\n  \"n\": null\n  nested:\n  - - a\n  none: []\n"
        );
    }

    #[test]
    fn keys_sort_naturally_as_go_yaml_v2_sorts_them() {
        let mut keys = vec![
            "key10", "key2", "key1", "Key", "a-b", "ab", "a.b", "a", "a1", "a01",
        ];
        keys.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            keys,
            vec![
                "Key", "a", "a-b", "a.b", "a1", "a01", "ab", "key1", "key2", "key10"
            ]
        );
    }

    #[test]
    fn long_keys_use_the_explicit_key_form() {
        let key = "k".repeat(129);
        assert_eq!(yaml(json!({ key.clone(): 1 })), format!("? {key}\n: 1\n"));
    }
}
