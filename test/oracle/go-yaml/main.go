// Command go-yaml-oracle answers, with go-yaml v3 itself, what sops 3.13's YAML
// store (getsops/sops stores/yaml/store.go) reads from a YAML file and writes for
// a tree. The tests run it beside our parser and emitter and compare the answers.
//
// It reads a JSON array of requests on stdin and writes a JSON array of answers:
//
//	{"op":"load","yaml":"..."}                  -> {"docs":[[item...]...]} or {"error":"..."}
//	{"op":"roundtrip","yaml":"...","indent":4}  -> {"yaml":"..."}: load, then emit as sops does
//	{"op":"emit","docs":[[item...]],"indent":4} -> {"yaml":"..."}: EmitPlainFile of the tree
//	{"op":"emitValue","value":V}                -> {"yaml":"..."}: EmitValue (decrypt --extract)
//
// The tree is sops's: a document is a list of items, an item {"k":key,"v":V} or a
// comment {"c":text,"inline":bool}; V is {"map":[item...]}, {"list":[V or comment...]}
// or a scalar {"str"}, {"bytes":base64} (a Go string that is not UTF-8), {"int"},
// {"uint"} (a uint64 sops cannot walk), {"float"} (Go 'g' format, NaN, +Inf, -Inf),
// {"bool"}, {"time"} (RFC 3339 nano) or {"null":true}.
//
// The walks below follow sops's store (nodeToTreeValue, appendYamlNodeToTreeBranch,
// appendTreeBranch, appendSequence) step by step, so a comment lands where sops puts it.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

type comment struct {
	text   string
	inline bool
}
type item struct{ key, value interface{} }
type branch []item

// ---- YAML -> tree, as sops LoadPlainFile ----

func commentsOf(text string, inline bool) []comment {
	var out []comment
	for _, line := range strings.Split(text, "\n") {
		if line != "" {
			out = append(out, comment{line[1:], inline})
		}
	}
	return out
}

func mapComments(b branch, text string, inline bool) branch {
	for _, c := range commentsOf(text, inline) {
		b = append(b, item{key: c})
	}
	return b
}

func listComments(l []interface{}, text string, inline bool) []interface{} {
	for _, c := range commentsOf(text, inline) {
		l = append(l, c)
	}
	return l
}

func value(n *yaml.Node, handled bool) (interface{}, error) {
	switch n.Kind {
	case yaml.SequenceNode:
		var l []interface{}
		if !handled {
			l = listComments(l, n.HeadComment, false)
			l = listComments(l, n.LineComment, false)
		}
		for _, it := range n.Content {
			l = listComments(l, it.HeadComment, false)
			l = listComments(l, it.LineComment, true)
			v, err := value(it, true)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
			l = listComments(l, it.FootComment, false)
		}
		if !handled {
			l = listComments(l, n.FootComment, false)
		}
		return l, nil
	case yaml.MappingNode:
		return toBranch(n, branch{}, handled)
	case yaml.ScalarNode:
		var v interface{}
		n.Decode(&v) // sops ignores this error too
		return v, nil
	case yaml.AliasNode:
		return value(n.Alias, false)
	}
	return nil, nil
}

func toBranch(n *yaml.Node, b branch, handled bool) (branch, error) {
	if !handled {
		b = mapComments(b, n.HeadComment, false)
		b = mapComments(b, n.LineComment, false)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			var err error
			if b, err = toBranch(c, b, false); err != nil {
				return nil, err
			}
		}
	case yaml.SequenceNode:
		return nil, fmt.Errorf("YAML documents that are sequences are not supported")
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			b = mapComments(b, k.HeadComment, false)
			b = mapComments(b, k.LineComment, false)
			scalar := v.Kind == yaml.ScalarNode || v.Kind == yaml.AliasNode
			if scalar {
				b = mapComments(b, v.HeadComment, false)
				b = mapComments(b, v.LineComment, true)
			}
			var key interface{}
			k.Decode(&key)
			val, err := value(v, scalar)
			if err != nil {
				return nil, err
			}
			b = append(b, item{key, val})
			if scalar {
				b = mapComments(b, v.FootComment, false)
			}
			b = mapComments(b, k.FootComment, false)
		}
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return b, nil
		}
		return nil, fmt.Errorf("YAML documents that are values are not supported")
	case yaml.AliasNode:
		return toBranch(n.Alias, b, false)
	}
	if !handled {
		b = mapComments(b, n.FootComment, false)
	}
	return b, nil
}

func load(in []byte) ([]branch, error) {
	if len(in) > 0 {
		// sops decodes the first document into a map first, for yaml.v3's duplicate-key check.
		if err := yaml.NewDecoder(bytes.NewReader(in)).Decode(make(map[string]interface{})); err != nil {
			return nil, err
		}
	}
	var docs []branch
	d := yaml.NewDecoder(bytes.NewReader(in))
	for {
		var n yaml.Node
		err := d.Decode(&n)
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		b, err := toBranch(&n, branch{}, false)
		if err != nil {
			return nil, err
		}
		docs = append(docs, b)
	}
}

// ---- tree -> YAML, as sops EmitPlainFile / EmitValue ----

func headComments(n *yaml.Node, cs []string) {
	if len(cs) > 0 {
		c := "#" + strings.Join(cs, "\n#")
		if n.HeadComment != "" {
			c += "\n" + n.HeadComment
		}
		n.HeadComment = c
	}
}

func joinOnto(s *string, cs []string) {
	if len(cs) > 0 {
		c := "#" + strings.Join(cs, "\n#")
		if *s != "" {
			c = *s + "\n" + c
		}
		*s = c
	}
}

func node(v interface{}) *yaml.Node {
	switch v := v.(type) {
	case branch:
		n := &yaml.Node{Kind: yaml.MappingNode}
		appendBranch(v, n)
		return n
	case []interface{}:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		appendSequence(v, n)
		return n
	default:
		n := &yaml.Node{}
		n.Encode(v)
		return n
	}
}

func appendSequence(in []interface{}, seq *yaml.Node) {
	var heads, inlines []string
	first := true
	for _, it := range in {
		if c, ok := it.(comment); ok {
			if c.inline {
				inlines = append(inlines, c.text)
			} else {
				heads = append(heads, c.text)
			}
			continue
		}
		if first {
			headComments(seq, heads)
			heads, first = nil, false
		}
		n := node(it)
		headComments(n, heads)
		joinOnto(&n.LineComment, inlines)
		heads, inlines = nil, nil
		seq.Content = append(seq.Content, n)
	}
	heads = append(heads, inlines...)
	if first {
		headComments(seq, heads)
	} else if len(heads) > 0 {
		joinOnto(&seq.Content[len(seq.Content)-1].FootComment, heads)
	}
}

func appendBranch(b branch, m *yaml.Node) {
	var heads, inlines []string
	first := true
	for _, it := range b {
		if c, ok := it.key.(comment); ok {
			if c.inline {
				inlines = append(inlines, c.text)
			} else {
				heads = append(heads, c.text)
			}
			continue
		}
		if first {
			headComments(m, heads)
			heads, first = nil, false
		}
		k := &yaml.Node{}
		k.Encode(it.key)
		headComments(k, heads)
		v := node(it.value)
		joinOnto(&v.LineComment, inlines)
		heads, inlines = nil, nil
		m.Content = append(m.Content, k, v)
	}
	heads = append(heads, inlines...)
	if first {
		headComments(m, heads)
	} else if len(heads) > 0 {
		joinOnto(&m.Content[len(m.Content)-2].FootComment, heads)
	}
}

func emit(docs []branch, indent int) ([]byte, error) {
	var buf bytes.Buffer
	e := yaml.NewEncoder(&buf)
	e.SetIndent(indent)
	for _, b := range docs {
		m := &yaml.Node{Kind: yaml.MappingNode}
		appendBranch(b, m)
		if err := e.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{m}}); err != nil {
			return nil, err
		}
	}
	e.Close()
	return buf.Bytes(), nil
}

// ---- the JSON form of a tree ----

func toJSON(v interface{}) interface{} {
	switch v := v.(type) {
	case branch:
		return map[string]interface{}{"map": itemsJSON(v)}
	case []interface{}:
		l := []interface{}{}
		for _, it := range v {
			if c, ok := it.(comment); ok {
				l = append(l, map[string]interface{}{"c": c.text, "inline": c.inline})
			} else {
				l = append(l, toJSON(it))
			}
		}
		return map[string]interface{}{"list": l}
	case string:
		if !utf8.ValidString(v) {
			return map[string]interface{}{"bytes": base64.StdEncoding.EncodeToString([]byte(v))}
		}
		return map[string]interface{}{"str": v}
	case int:
		return map[string]interface{}{"int": strconv.Itoa(v)}
	case int64:
		return map[string]interface{}{"int": strconv.FormatInt(v, 10)}
	case uint64:
		return map[string]interface{}{"uint": strconv.FormatUint(v, 10)}
	case float64:
		return map[string]interface{}{"float": strconv.FormatFloat(v, 'g', -1, 64)}
	case bool:
		return map[string]interface{}{"bool": v}
	case time.Time:
		return map[string]interface{}{"time": v.Format(time.RFC3339Nano)}
	case nil:
		return map[string]interface{}{"null": true}
	}
	return map[string]interface{}{"unknown": fmt.Sprintf("%T", v)}
}

func itemsJSON(b branch) []interface{} {
	out := []interface{}{}
	for _, it := range b {
		if c, ok := it.key.(comment); ok {
			out = append(out, map[string]interface{}{"c": c.text, "inline": c.inline})
		} else {
			out = append(out, map[string]interface{}{"k": toJSON(it.key), "v": toJSON(it.value)})
		}
	}
	return out
}

type jsonNode struct {
	Map    *[]jsonItem       `json:"map"`
	List   *[]jsonItem       `json:"list"`
	Str    *string           `json:"str"`
	Bytes  *string           `json:"bytes"`
	Int    *string           `json:"int"`
	Float  *string           `json:"float"`
	Bool   *bool             `json:"bool"`
	Time   *string           `json:"time"`
	Null   *bool             `json:"null"`
	C      *string           `json:"c"`
	Inline bool              `json:"inline"`
	K      *jsonNode         `json:"k"`
	V      *jsonNode         `json:"v"`
	Extra  map[string]string `json:"-"`
}
type jsonItem = jsonNode

func fromJSON(j *jsonNode) (interface{}, error) {
	switch {
	case j.Map != nil:
		return branchFromJSON(*j.Map)
	case j.List != nil:
		l := []interface{}{}
		for i := range *j.List {
			it := &(*j.List)[i]
			if it.C != nil {
				l = append(l, comment{*it.C, it.Inline})
				continue
			}
			v, err := fromJSON(it)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case j.Str != nil:
		return *j.Str, nil
	case j.Bytes != nil:
		b, err := base64.StdEncoding.DecodeString(*j.Bytes)
		return string(b), err
	case j.Int != nil:
		n, err := strconv.ParseInt(*j.Int, 10, 64)
		return int(n), err
	case j.Float != nil:
		switch *j.Float {
		case "NaN":
			return math.NaN(), nil
		case "+Inf":
			return math.Inf(1), nil
		case "-Inf":
			return math.Inf(-1), nil
		}
		return strconv.ParseFloat(*j.Float, 64)
	case j.Bool != nil:
		return *j.Bool, nil
	case j.Time != nil:
		return time.Parse(time.RFC3339Nano, *j.Time)
	case j.Null != nil:
		return nil, nil
	}
	return nil, fmt.Errorf("unknown tree node")
}

func branchFromJSON(items []jsonItem) (branch, error) {
	b := branch{}
	for i := range items {
		it := &items[i]
		if it.C != nil {
			b = append(b, item{key: comment{*it.C, it.Inline}})
			continue
		}
		if it.K == nil || it.V == nil {
			return nil, fmt.Errorf("map item without k and v")
		}
		k, err := fromJSON(it.K)
		if err != nil {
			return nil, err
		}
		v, err := fromJSON(it.V)
		if err != nil {
			return nil, err
		}
		b = append(b, item{k, v})
	}
	return b, nil
}

// ---- requests ----

type request struct {
	Op     string       `json:"op"`
	YAML   string       `json:"yaml"`
	Docs   [][]jsonItem `json:"docs"`
	Value  *jsonNode    `json:"value"`
	Indent int          `json:"indent"`
}

func answer(r request) (ans map[string]interface{}) {
	defer func() {
		// yaml.v3 panics on some encoder misuse; an answer beats a dead oracle.
		if p := recover(); p != nil {
			ans = map[string]interface{}{"error": fmt.Sprint("panic: ", p)}
		}
	}()
	fail := func(err error) map[string]interface{} { return map[string]interface{}{"error": err.Error()} }
	indent := r.Indent
	if indent == 0 {
		indent = 4 // sops's IndentDefault
	}
	switch r.Op {
	case "load", "roundtrip":
		docs, err := load([]byte(r.YAML))
		if err != nil {
			return fail(err)
		}
		if r.Op == "roundtrip" {
			out, err := emit(docs, indent)
			if err != nil {
				return fail(err)
			}
			return map[string]interface{}{"yaml": string(out)}
		}
		js := []interface{}{}
		for _, d := range docs {
			js = append(js, itemsJSON(d))
		}
		return map[string]interface{}{"docs": js}
	case "emit":
		var docs []branch
		for _, d := range r.Docs {
			b, err := branchFromJSON(d)
			if err != nil {
				return fail(err)
			}
			docs = append(docs, b)
		}
		out, err := emit(docs, indent)
		if err != nil {
			return fail(err)
		}
		return map[string]interface{}{"yaml": string(out)}
	case "emitValue":
		if r.Value == nil {
			return fail(fmt.Errorf("emitValue without value"))
		}
		v, err := fromJSON(r.Value)
		if err != nil {
			return fail(err)
		}
		out, err := yaml.Marshal(node(v))
		if err != nil {
			return fail(err)
		}
		return map[string]interface{}{"yaml": string(out)}
	}
	return fail(fmt.Errorf("unknown op %q", r.Op))
}

func main() {
	var reqs []request
	if err := json.NewDecoder(os.Stdin).Decode(&reqs); err != nil {
		fmt.Fprintln(os.Stderr, "go-yaml-oracle:", err)
		os.Exit(2)
	}
	answers := make([]interface{}, len(reqs))
	for i, r := range reqs {
		answers[i] = answer(r)
	}
	if err := json.NewEncoder(os.Stdout).Encode(answers); err != nil {
		fmt.Fprintln(os.Stderr, "go-yaml-oracle:", err)
		os.Exit(2)
	}
}
