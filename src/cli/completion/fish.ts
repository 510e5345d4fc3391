/**
 * The fish script of `secrets completion fish`. fish shows the description after a
 * tab and quotes what it inserts; `-f` keeps its own file names out unless the
 * binary asks for them (`:files`). See bash.ts for why the script lists no commands.
 */
import { functionName, header } from "./script-header.js"

export function fishScript(program: string): string {
    const fn = `__${functionName(program)}_complete`
    return `${header("#", program, "fish", [`Install: save this file as ~/.config/fish/completions/${program}.fish`])}
function ${fn}
    # -o: the tokens unquoted, as the command gets them; -c: up to the cursor.
    set -l tokens (commandline -opc)
    set -l current (commandline -ct)
    set -l out (command $tokens[1] __complete fish -- $tokens[2..-1] "$current" 2>/dev/null)
    or return
    set -q out[1]; or return
    set -l directive $out[-1]
    set -e out[-1]
    if set -q out[1]
        printf '%s\\n' $out
    else if test "$directive" = ":files"
        __fish_complete_path "$current"
    end
end

complete -c ${program} -f -a '(${fn})'
`
}
