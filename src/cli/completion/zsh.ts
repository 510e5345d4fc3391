/**
 * The zsh script of `secrets completion zsh`: a `#compdef` function for $fpath that
 * also works when sourced. Candidates and their descriptions come from
 * `secrets __complete`; see bash.ts for why the script lists no commands.
 */
import { functionName, header } from "./script-header.js"

export function zshScript(program: string): string {
    const fn = `_${functionName(program)}`
    return `#compdef ${program}
${header("#", program, "zsh", [
    `Install: save this file as ${fn} in a directory of $fpath (before compinit runs),`,
    "e.g. fpath=(~/.zfunc $fpath) then autoload -Uz compinit && compinit in ~/.zshrc;",
    "or source it after compinit.",
])}
${fn}() {
    local out directive line
    local -a lines candidates
    # (Q) removes the quoting as typed: the binary gets the words the command would.
    out=$(command \${words[1]} __complete zsh -- "\${(@Q)words[2,CURRENT-1]}" "\${(Q)PREFIX}" 2>/dev/null) || return 1
    lines=("\${(@f)out}")
    directive=\${lines[-1]}
    for line in "\${(@)lines[1,-2]}"; do
        # _describe splits value:description on the first unescaped colon.
        if [[ $line == *$'\\t'* ]]; then
            candidates+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}")
        else
            candidates+=("\${line//:/\\\\:}")
        fi
    done
    if (( \${#candidates} )); then
        _describe -t ${program} '${program}' candidates
        return
    fi
    if [[ $directive == :files ]]; then
        _files
        return
    fi
    return 1
}

# Autoloaded from $fpath, the file is the function body: run it. Sourced: register it.
if [[ \${funcstack[1]-} == ${fn} ]]; then
    ${fn} "$@"
else
    compdef ${fn} ${program}
fi
`
}
