/**
 * Hand-written YAML for the differential tests against go-yaml: each entry is a
 * document whose reading go-yaml and a YAML 1.2 parser might disagree on.
 */

const chompings = ["|", "|-", "|+", ">", ">-", ">+", "|2", "|2-", "|+2", ">1", ">-3", "|4+"]
const blockBodies = [
    "  line one\n  line two\n",
    "  line one\n  line two",
    "  line one\n\n  line two\n\n\n",
    "  line one\n\n  line two\n\n\n  ",
    "\n\n  after blanks\n",
    "  folded\n  lines\n\n  new para\n    more indented\n  back\n",
    "   three spaces\n  two spaces\n",
    "  trailing spaces   \n  x\n",
    "  # not a comment\n",
    "",
    "\n",
    "  \n",
]

/** Block scalars with every chomping and indentation indicator, at the end of the file and before another key. */
function blockScalars(): string[] {
    const out: string[] = []
    for (const h of chompings) {
        for (const body of blockBodies) {
            // Explicit indentation 3/4 only fits bodies indented that much; the parser errors otherwise, on both sides.
            out.push(`k: ${h}\n${body}`)
            out.push(`k: ${h}\n${body}${body.endsWith("\n") || body === "" ? "" : "\n"}next: 1\n`)
        }
        out.push(`list:\n  - ${h}\n    in a list\n    x\n  - ${h}\n    last`)
        out.push(`k: ${h} # comment on the header\n  body\n`)
    }
    return out
}

const plainScalars = [
    "yes", "no", "Yes", "NO", "on", "off", "On", "OFF", "y", "n", "Y", "N",
    "true", "True", "TRUE", "tRUE", "false", "False", "FALSE",
    "~", "null", "Null", "NULL", "nUll", "",
    "0", "-0", "+0", "00", "007", "08", "0o17", "0O17", "0o", "0x1F", "0X1f", "-0x1F", "0x", "0b101", "-0b101", "+0b101", "0B101",
    "1_000", "1__0", "_1", "1_", "0x_1F", "0b_1", "0o_7", "+1_0", "1,000",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "18446744073709551615", "18446744073709551616",
    "0xFFFFFFFFFFFFFFFF", "0x8000000000000000", "-0x8000000000000000",
    "1e3", "1E3", "1e+3", "1e-3", "1.", ".5", "-.5", "+.5", "._5", ".5_0", "5.e3", "1.5e", "1e", "e3", "1_0.5", "1.5_0", "0.1e1_0",
    "1e400", "-1e400", "1e-400", "4.9e-324", "0x1p3", "0x1.8p1", "infinity", "inf", "nan", "NaN",
    ".inf", ".Inf", ".INF", "-.inf", "+.inf", "-.Inf", ".nan", ".NaN", ".NAN", ".nAn", "-.nan",
    "1:20", "1:20:30", "-1:20", "190:20:30.15", "1:60",
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14T21:59:43.10Z", "2001-12-14 21:59:43.10 -5", "2001-12-14 21:59:43.10",
    "2001-12-14T21:59:43Z", "2001-12-14T21:59:43+00:00", "2001-12-14T21:59:43-00:00", "2001-12-14T21:59:43.123456789123Z", "2001-1-2",
    "2001-02-29", "2000-02-29", "2001-13-01", "2001-12-14T25:00:00Z", "20011-12-14", "2001-12-14 1:2:3", "2001-12-14T1:2:3Z",
    "2001-12-14T21:59:43+05", "2001-12-14T21:59:43+0530", "2001-12-14T21:59:43 +05:00", "2001-12-14  21:59:43",
    "=", "<<", "!", "&", "*x", "@x", "`x", "%x", "-", "--", "---x", "- x", "? x", ":x", "a:b", "a: b", "a #b", "a#b",
    "foo bar", "héllo", "😀", "a\tb", "0x1F ", "+", ".", "-.",
]

/** Plain, single-quoted and double-quoted forms of the special scalars, as values and as keys. */
function scalars(): string[] {
    const out: string[] = []
    for (const s of plainScalars) {
        out.push(`k: ${s}\n`)
        out.push(`k: '${s.replaceAll("'", "''")}'\n`)
        out.push(`k: "${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"\n`)
        out.push(`${s}: v\n`)
        out.push(`k: [${s}]\n`)
    }
    return out
}

const tagged = [
    "k: !!str 123\n", "k: !!int 0x10\n", "k: !!int 1.5\n", "k: !!int '7'\n", "k: !!float 1\n", "k: !!float '1.5'\n", "k: !!float abc\n",
    "k: !!bool yes\n", "k: !!bool true\n", "k: !!null ''\n", "k: !!null x\n", "k: !!timestamp 2001-12-14\n", "k: !!timestamp '2001-12-14'\n",
    "k: !!timestamp x\n", "k: !!binary aGVsbG8=\n", "k: !!binary |\n  aGVs\n  bG8=\n", "k: !!binary /w==\n", "k: !!binary '!!'\n",
    "k: !custom value\n", "k: !custom 12\n", "k: ! 12\n", "k: !<tag:yaml.org,2002:int> 12\n", "k: !<tag:example.com,2000:x> 12\n",
    "%TAG !e! tag:example.com,2000:\n---\nk: !e!x 12\n", "%TAG !! tag:example.com,2000:\n---\nk: !!int 12\n",
    "k: !!map {a: 1}\n", "k: !!seq [1]\n", "k: !!str [1]\n", "k: !!map x\n", "!!str 12: v\n", "!!int 12: v\n",
]

const flows = [
    "k: {a: 1, b: [x, y], c: {d: null}}\n", "k: [1, 'two', \"three\", 4.0, ~, true]\n", "k: []\n", "k: {}\n", "k: [a, b, ]\n",
    "k: {a, b: 2}\n", "k: [a: 1, b]\n", "k: {? a : 1}\n", "k: [\n  a,\n  b\n]\n", "k: {a: [1, {b: 2}]}\n", "{a: 1, b: 2}\n",
    "k: [a # comment\n  , b]\n", "k: {a: 1, # comment\n  b: 2}\n", "k: ['a''b', \"c\\\"d\"]\n", "k: [\"multi\n  line\"]\n", "k: [plain\n  multi]\n",
]

const anchors = [
    "a: &x 1\nb: *x\n", "a: &x {p: 1, q: [2]}\nb: *x\n", "a: &x [1, 2]\nb: *x\n", "base: &b\n  p: 1\nderived:\n  <<: *b\n  q: 2\n",
    "base: &b\n  p: 1\nderived:\n  <<: [*b]\n", "a: &x\n  # head of p\n  p: 1 # line of p\nb: *x\n", "a: &x text\n*x : v\n", "a: &x 1\nb: *y\n",
    "a: &x 1\na2: &x 2\nb: *x\n", "a: &x !!str 1\nb: *x\n", "a: &x\nb: *x\n", "&top\na: 1\n",
]

const comments = [
    "# head\na: 1\n", "a: 1 # line\n", "a: 1\n# foot\n", "a: 1\n\n# separated foot\n", "# one\n# two\n\na: 1\n", "a:\n  # inner head\n  b: 1\n",
    "a:\n  b: 1\n  # inner foot\nc: 2\n", "a:\n  b: 1\n# outer foot\nc: 2\n", "a: # on key\n  b: 1\n", "list:\n  # before first\n  - 1 # line\n  # between\n  - 2\n  # after\n",
    "list:\n- 1\n- 2 # two\n", "a: |\n  text\n# after block\nb: 1\n", "a: 'q' # c\n", "a: \"q\" # c\n", "#no space\na: 1 #no space\n",
    "a: 1 # one\nb: 2 # two\n", "a:\n  - b: 1 # c\n    c: 2\n", "a: 1\n# x\n\n# y\nb: 2\n", "# only comment\n", "\n# c\n\n", "a: 1\n    # indented foot\n",
    "a: {b: 1} # after flow\n", "a: [1, 2] # after flow\n", "a: 1\n#\nb: 2\n", "a: 1 #\n", "a: x#y\n", "a: x #y\n",
    "a: [1, # c1\n  2 # c2\n  ]\n", "a: [\n  # own\n  1,\n  2]\n", "a: {b: [1, 2] # x\n  }\n", "a: [[1, 2], 3] # after\n",
    "a: [1, 2] # after\nb: 2\n", "l:\n  - # on dash\n    b: 1\n", "l:\n  - a # inl\n  - [1, 2] # after flow in seq\n",
    "a: &x [1] # c\nb: *x\n", "l:\n  - # on dash\n    - 1\n", "a: # on key\n  - 1\n", "a: {b: 1, c: 2} # one\n# two\nd: 3\n",
]

const quoting = [
    "a: 'it''s'\n", "a: \"tab\\there\"\n", "a: \"\\u00e9\\x41\\U0001F600\"\n", "a: \"\\0\\a\\b\\e\\f\\n\\r\\v\\N\\_\\L\\P\\ \\/\"\n",
    "a: \"line\\\n  continued\"\n", "a: 'multi\n  line\n\n  para'\n", "a: \"multi\n  line\n\n  para\"\n", "a: plain\n  continued\n\n  para\n",
    "a: \"trailing \"\n", "a: '  lead'\n", "a: \"\"\n", "a: ''\n", "a: \"\\x80\"\n", "a: \"\\uD800\"\n", "a: \"\\q\"\n", "a: \"\\\n\"\n",
    "\"quoted key\": 1\n", "'single key': 1\n", "? complex key\n: v\n", "? |\n  block key\n: v\n", "a:\n", "a: \n", "a:\nb:\n", "a: ~\n",
]

const structure = [
    "a:\n  b:\n    c: 1\n", "a:\n- 1\n- 2\n", "a:\n  - 1\n  -   2\n", "a:\n  -\n    b: 1\n  - - x\n    - y\n", "- a\n", "scalar\n", "~\n", "", "---\n",
    "--- # c\n", "---\na: 1\n---\nb: 2\n", "a: 1\n...\n---\nb: 2\n", "a: 1\n---\n", "---\n---\na: 1\n", "a: 1\n---\n- x\n", "a: 1\n---\nscalar\n",
    "a: 1\na: 2\n", "a: 1\n---\nb: 1\nb: 2\n", "\ta: 1\n", "a:\n\tb: 1\n", "a: 1\r\nb: 2\r\n", "a: 1\rb: 2\n", "\ufeffa: 1\n", "a: b: c\n",
    "a: 1\n b: 2\n", "a: [1\n", "a: '\n", "a: \"\\x\"\n", "%YAML 1.1\n---\na: 1\n", "%YAML 1.2\n---\na: yes\n", "a: 1\n... \n", "a: x\n  - y\n",
    "key with spaces: 1\n", "a:    spaced   \n", "a: 1 \n", "? a\n", "a: &anchor\n  b: 1\n",
]

export const CORPUS: Readonly<Record<string, readonly string[]>> = {
    "block scalars": blockScalars(),
    "plain, quoted and flow scalars": scalars(),
    tags: tagged,
    "flow collections": flows,
    "anchors and aliases": anchors,
    comments,
    "quoting styles": quoting,
    structure,
}
