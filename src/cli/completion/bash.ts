/**
 * The bash script of `secrets completion bash`. It holds no list of commands: every
 * candidate comes from `secrets __complete`, which reads the commander program, so
 * the script stays right when commands are added and the committed copy in
 * completions/ only changes when this generator does.
 */
import { functionName, header } from "./script-header.js"

export function bashScript(program: string): string {
    const fn = `_${functionName(program)}_completion`
    return `${header("#", program, "bash", [
        "Install: source this file from ~/.bashrc, or save it as",
        `~/.local/share/bash-completion/completions/${program}`,
    ])}
${fn}() {
    local cur words cword
    if declare -F _init_completion >/dev/null 2>&1; then
        # bash-completion: split on blanks only, not on the = and : of COMP_WORDBREAKS,
        # so that --output-type=json and key paths arrive as one word.
        local prev
        _init_completion -n =: || return
    else
        local line=\${COMP_LINE:0:COMP_POINT}
        read -ra words <<<"$line"
        if [[ $line == *[[:space:]] ]]; then cur=""; words+=(""); else cur=\${words[-1]}; fi
        cword=$(( \${#words[@]} - 1 ))
    fi
    local out
    out=$(command "\${words[0]}" __complete bash -- "\${words[@]:1:cword-1}" "$cur" 2>/dev/null) || return 0
    local -a lines
    mapfile -t lines <<<"$out"
    local directive=\${lines[-1]}
    unset 'lines[-1]'
    COMPREPLY=("\${lines[@]}")
    # readline still replaces only the text after the last = or : of the word.
    if [[ $cur == *[=:]* ]]; then
        local strip=\${cur%"\${cur##*[=:]}"}
        COMPREPLY=("\${COMPREPLY[@]#"$strip"}")
    fi
    if [[ $directive == :files && \${#COMPREPLY[@]} -eq 0 ]]; then
        compopt -o default 2>/dev/null
    fi
    return 0
}
complete -F ${fn} ${program}
`
}
