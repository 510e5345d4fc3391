/**
 * Reading YAML within bounds (core/input-limits.ts), for the YAML store and for
 * `.sops.yaml`: the nesting depth is checked on the `yaml` package's syntax tree
 * before its composer (which recurses once per level and runs out of stack near
 * 800) sees it, and alias expansion is counted as go-yaml v3 counts it.
 */
import { Composer, CST, isAlias, isCollection, isPair, Lexer, Parser, visit, type Alias, type Document, type LineCounter, type Node } from "yaml"
import type { DocumentOptions, ParseOptions, SchemaOptions } from "yaml"
import { AliasBudget, InputLimitError, MAX_NESTING_DEPTH, nestedTooDeeply } from "../core/input-limits.js"

/** 1-based line of `offset` in `text`. */
function lineAt(text: string, offset: number): number {
    let line = 1
    for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++
    return line
}

/** The first collection nested deeper than MAX_NESTING_DEPTH in a syntax tree, as its offset. */
function tooDeepAt(tokens: readonly CST.Token[]): number | undefined {
    // An explicit stack: the syntax tree is exactly as deep as the hostile input.
    const stack: { token: CST.Token; depth: number }[] = tokens.map((token) => ({ token, depth: 0 }))
    for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
        const { token, depth } = top
        if (token.type === "document") {
            if (token.value !== undefined) stack.push({ token: token.value, depth })
        } else if (CST.isCollection(token)) {
            const inner = depth + 1
            if (inner > MAX_NESTING_DEPTH) return token.offset
            for (const item of token.items) {
                if ("key" in item && item.key !== undefined && item.key !== null) stack.push({ token: item.key, depth: inner })
                if (item.value !== undefined) stack.push({ token: item.value, depth: inner })
            }
        }
    }
    return undefined
}

/** What a caller may watch while the text is read. */
export interface YamlStreamHooks {
    /** Filled with line starts as the parser goes, for positions in messages. */
    readonly lineCounter?: LineCounter
    /** Every lexeme, in order, mode-change lexemes (not source text) included. */
    readonly onLexeme?: (lexeme: string) => void
    /** Every directive line (`%YAML 1.1`, `%TAG …`), as the parser finds it. */
    readonly onDirective?: (source: string, offset: number) => void
}

/**
 * All documents of a YAML stream, as `parseAllDocuments` gives them (errors left in
 * each document's `errors`, positions unset), but an InputLimitError for a stream
 * nested deeper than MAX_NESTING_DEPTH.
 *
 * The text is lexed here and fed to the parser lexeme by lexeme (what `Parser.parse`
 * does inside), so that callers can watch the lexemes and so that a megabyte of `[`
 * or of `- ` fails as soon as the parser holds too many open collections, instead of
 * after it has built a syntax tree for all of it (seconds, hundreds of MB). Its stack
 * is the document, the open collections and at most one scalar; the exact depth is
 * then checked on the finished tree.
 */
export function parseYamlStream(text: string, options: ParseOptions & DocumentOptions & SchemaOptions, hooks: YamlStreamHooks = {}): Document.Parsed[] {
    const { lineCounter, onLexeme, onDirective } = hooks
    const parser = new Parser(lineCounter?.addNewLine)
    lineCounter?.addNewLine(0)
    const tokens: CST.Token[] = []
    for (const lexeme of new Lexer().lex(text)) {
        onLexeme?.(lexeme)
        for (const token of parser.next(lexeme)) {
            if (token.type === "directive") onDirective?.(token.source, token.offset)
            tokens.push(token)
        }
        if (parser.stack.length - 2 > MAX_NESTING_DEPTH) throw nestedTooDeeply("YAML", `at line ${lineAt(text, parser.offset)}`)
    }
    for (const token of parser.end()) tokens.push(token)
    const deep = tooDeepAt(tokens)
    if (deep !== undefined) throw nestedTooDeeply("YAML", `at line ${lineAt(text, deep)}`)
    const docs = Array.from(new Composer(options).compose(tokens))
    for (const doc of docs) {
        // The composer catches its own stack overflow as RESOURCE_EXHAUSTION; with the
        // depth checked above that needs a caller deep in the stack already, and it is
        // the same problem, so it gets the same message.
        const exhausted = doc.errors.find((e) => e.code === "RESOURCE_EXHAUSTION")
        if (exhausted !== undefined) throw nestedTooDeeply("YAML", `at line ${lineAt(text, exhausted.pos[0])}`)
    }
    return docs
}

/**
 * Which node each alias of `doc` stands for: the last node before it, in document
 * order, with that anchor (as yaml.v3's parser and the `yaml` package both resolve
 * it). Computed once per document; `Alias.resolve` walks the whole document on every
 * call, which an alias-heavy file turns into quadratic work.
 */
export function aliasTargets(doc: Document): Map<Alias, Node> {
    const anchors = new Map<string, Node>()
    const targets = new Map<Alias, Node>()
    visit(doc, {
        Node(_key, node) {
            if (isAlias(node)) {
                const target = anchors.get(node.source)
                if (target !== undefined) targets.set(node, target)
            } else if (node.anchor !== undefined && node.anchor !== "") {
                anchors.set(node.anchor, node)
            }
        },
    })
    return targets
}

/** The error for an anchor whose value contains an alias of itself (yaml.v3: "anchor … value contains itself"). */
export function anchorContainsItself(line: number): InputLimitError {
    return new InputLimitError(`the anchor at line ${line} contains an alias of itself`)
}

/**
 * Walk `doc` as yaml.v3 decodes it into a generic value, expanding every alias, and
 * throw an InputLimitError when the expansion breaks go-yaml's alias budget, nests
 * deeper than MAX_NESTING_DEPTH or loops. Aliases to no anchor are left to the
 * caller. `lineOf` gives a node's line for messages.
 */
export function checkAliasExpansion(doc: Document, lineOf: (n: Node) => number): void {
    const targets = aliasTargets(doc)
    const budget = new AliasBudget()
    const expanding = new Set<Node>()
    const walk = (n: unknown, depth: number, viaAlias: boolean): void => {
        if (n === null || n === undefined) return
        if (isPair(n)) {
            walk(n.key, depth, viaAlias)
            walk(n.value, depth, viaAlias)
            return
        }
        budget.count(viaAlias)
        if (isAlias(n)) {
            const target = targets.get(n)
            if (target === undefined) return
            if (expanding.has(target)) throw anchorContainsItself(lineOf(target))
            expanding.add(target)
            walk(target, depth, true)
            expanding.delete(target)
        } else if (isCollection(n)) {
            if (depth + 1 > MAX_NESTING_DEPTH) throw nestedTooDeeply("YAML", `at line ${lineOf(n)} once its aliases are expanded`)
            for (const item of n.items) walk(item, depth + 1, viaAlias)
        }
    }
    budget.count(false) // the document itself, as yaml.v3 counts it
    walk(doc.contents, 0, false)
}
