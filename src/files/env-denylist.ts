/**
 * Environment variables that change which code a program runs, which files it
 * loads as code, or where its traffic (with the secrets in it) goes. `exec-env`
 * sets one of these from a file only when the value was encrypted: an encrypted
 * value passed AES-GCM with its key path as additional data, so its name and
 * value were written by someone holding the data key. Nothing authenticates the
 * name of a value left in clear (the MAC hashes values, never keys: sops #828),
 * nor its value under `mac_only_encrypted`, nor an empty value (sops stores `""`
 * unencrypted and the MAC hashes nothing for it), so anyone who can push to the
 * repository could otherwise add `PATH: ""` or `LD_PRELOAD: /tmp/x.so` and run
 * code in the deploy job that reads the real secrets.
 *
 * A denylist cannot be complete; it covers the families below, each for the
 * reason given. docs/commands/exec.md lists the same names (a test keeps the two
 * in step).
 */

/** One family of names and why a forged value there is dangerous. */
export interface DangerousFamily {
    /** Short, for the warning: "it changes …". */
    readonly what: string
    /** Exact names (case-sensitive, as Unix environments are). */
    readonly names: readonly string[]
    /** Name prefixes. */
    readonly prefixes: readonly string[]
}

export const DANGEROUS_FAMILIES: readonly DangerousFamily[] = [
    {
        // The command runs under /bin/sh -c: bash (as sh or not) sources $BASH_ENV
        // before anything else, imports functions from BASH_FUNC_*%%, obeys
        // SHELLOPTS/BASHOPTS (xtrace prints every expanded value) and expands PS4 and
        // PROMPT_COMMAND; sh and zsh read $ENV and $ZDOTDIR; IFS changes how every
        // script splits words; PATH (where an empty entry means the current
        // directory) and CDPATH pick the programs and directories a script reaches.
        what: "how the shell and scripts find and run programs",
        names: ["PATH", "CDPATH", "IFS", "ENV", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND", "GLOBIGNORE", "ZDOTDIR", "SHELL"],
        prefixes: ["BASH_"],
    },
    {
        // ld.so loads LD_PRELOAD/LD_AUDIT objects into every dynamically linked
        // program and searches LD_LIBRARY_PATH first; dyld does the same with DYLD_*
        // on macOS. glibc loads gconv modules from GCONV_PATH (iconv), locale data
        // from LOCPATH and message catalogs from NLSPATH; GLIBC_TUNABLES parsing was
        // CVE-2023-4911.
        what: "which libraries every program loads",
        names: ["GCONV_PATH", "LOCPATH", "NLSPATH", "GLIBC_TUNABLES"],
        prefixes: ["LD_", "DYLD_"],
    },
    {
        // Each of these makes an interpreter load or run extra code at start-up:
        // NODE_OPTIONS=--require, NODE_PATH module lookup, PYTHONSTARTUP/PYTHONPATH/
        // PYTHONHOME, PERL5OPT=-M/PERL5LIB/PERLLIB, RUBYOPT=-r/RUBYLIB and gem paths,
        // the JVM's *_OPTIONS=-javaagent and CLASSPATH, LUA_INIT, PHP's ini files
        // (auto_prepend_file), GOFLAGS=-toolexec, npm's config (script-shell,
        // node-options).
        what: "what code an interpreter loads at start-up",
        names: [
            "NODE_OPTIONS",
            "NODE_PATH",
            "PERLLIB",
            "RUBYOPT",
            "RUBYLIB",
            "GEM_HOME",
            "GEM_PATH",
            "BUNDLE_GEMFILE",
            "JAVA_TOOL_OPTIONS",
            "_JAVA_OPTIONS",
            "JDK_JAVA_OPTIONS",
            "CLASSPATH",
            "PHPRC",
            "PHP_INI_SCAN_DIR",
            "GOFLAGS",
        ],
        prefixes: ["PYTHON", "PERL5", "LUA_", "npm_config_", "NPM_CONFIG_"],
    },
    {
        // Variables that name a program to run or a configuration that can name
        // one: git's GIT_SSH_COMMAND, GIT_EXEC_PATH, GIT_CONFIG_* (core.fsmonitor,
        // core.pager), GIT_DIR (a repository's hooks); editors, pagers and askpass
        // helpers; a kubeconfig's or docker config's credential plugins; HOME and
        // XDG_CONFIG_HOME, where every tool reads its dotfiles. SOPS_* and
        // SECRETS_* steer a nested sops or secrets: SOPS_AGE_KEY_CMD runs a
        // command, SOPS_AGE_RECIPIENTS would encrypt new files to someone else.
        what: "which programs and configuration other tools use",
        names: [
            "EDITOR",
            "VISUAL",
            "PAGER",
            "MANPAGER",
            "BROWSER",
            "LESSOPEN",
            "LESSCLOSE",
            "SSH_ASKPASS",
            "SUDO_ASKPASS",
            "KUBECONFIG",
            "DOCKER_CONFIG",
            "HOME",
            "XDG_CONFIG_HOME",
        ],
        prefixes: ["GIT_", "SOPS_", "SECRETS_"],
    },
    {
        // The secrets exec-env hands over usually travel over the network next: a
        // forged proxy, CA bundle or host alias sends them to someone else.
        what: "where network traffic goes and which certificates are trusted",
        names: [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "SSL_CERT_FILE",
            "SSL_CERT_DIR",
            "NODE_EXTRA_CA_CERTS",
            "NODE_TLS_REJECT_UNAUTHORIZED",
            "REQUESTS_CA_BUNDLE",
            "CURL_CA_BUNDLE",
            "HOSTALIASES",
        ],
        prefixes: [],
    },
]

/** The family `name` belongs to, or undefined when it may come from any value. */
export function dangerousFamily(name: string): DangerousFamily | undefined {
    return DANGEROUS_FAMILIES.find((f) => f.names.includes(name) || f.prefixes.some((p) => name.startsWith(p)))
}
