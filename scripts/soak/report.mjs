// The soak's figures as one Markdown table (pasted as is into docs/soak.md), and
// the list of invariants a run violated.

/** [campaign, figure, value, required (a number that must be met, or "" for information)] */
function rows(f) {
    const out = []
    const w = f.writers
    if (w) {
        out.push(
            ["writers", "concurrent `set` processes", w.writers, ""],
            ["writers", "failed writes (non-zero exit)", w.failed, 0],
            ["writers", "lost writes (exit 0, key missing)", w.lost, 0],
            ["writers", "file decrypts afterwards", w.fileDecrypts ? "yes" : "NO", "yes"],
            ["writers", "hangs", w.hangs, 0],
            ["writers", "stack traces / internal errors", w.stackTraces + w.internalErrors, 0],
            ["writers", "values on stdout/stderr", w.valuesOnOutput, 0],
            ["writers", "lock or temp files left", w.leftovers.length, 0],
            ["writers", "slowest writer (s)", w.slowestWriterSeconds.toFixed(1), ""],
            ["writers", "duration (s)", w.seconds.toFixed(0), ""],
        )
    }
    const k = f.kills
    if (k) {
        out.push(
            ["kills", "rounds", k.rounds, ""],
            ["kills", "killed mid-run / finished before the kill", `${k.killed} / ${k.finishedBeforeKill}`, ""],
            ["kills", "rounds per command", Object.entries(k.byCommand).map(([c, n]) => `${c} ${n}`).join(", "), ""],
            ["kills", "outcomes", Object.entries(k.byOutcome).map(([c, n]) => `${c}: ${n}`).join(", "), ""],
            ["kills", "torn, lost or wrong files", k.tornOrLost, 0],
            ["kills", "plaintext at a target or in a temp file", k.plaintext, 0],
            ["kills", "next command failed (dead lock not taken over, rotation not resumed)", k.nextCommandFailed, 0],
            ["kills", "hangs", k.hangs, 0],
            ["kills", "stack traces / internal errors", k.stackTraces + k.internalErrors, 0],
            ["kills", "values on stderr", k.valuesOnStderr, 0],
            ["kills", "rounds with any violation (listed in --json)", k.violatingRounds, 0],
            ["kills", "kills that left a lock (taken over by the next command)", k.lockLeftByKill, ""],
            ["kills", "… of which outlived a next command that needed no lock (then a set took it over)", k.deadLockOutlivedNext ?? 0, ""],
            ["kills", "kills that left a temp file (ciphertext or state, never plaintext)", k.tmpLeftByKill, ""],
            ["kills", "… of which held an age identity (keys rotate, 0600)", k.tmpWithIdentity, ""],
            ["kills", "duration (s)", k.seconds.toFixed(0), ""],
        )
    }
    const m = f.mutations
    if (m) {
        out.push(
            ["mutations", "mutated cases (in process)", m.inProcessRuns, ""],
            ["mutations", "… also through the binary", m.binaryRuns, ""],
            ["mutations", "exit codes seen", Object.entries(m.exitCodes).map(([c, n]) => `${c}: ${n}`).join(", "), ""],
            ["mutations", "undocumented exit codes", m.undocumentedExitCodes, 0],
            ["mutations", "internal errors", m.internalErrors, 0],
            ["mutations", "stack traces / crashes", m.stackTraces, 0],
            ["mutations", "hangs (60 s)", m.hangs, 0],
            ["mutations", "values on stdout/stderr", m.valuesOnOutput, 0],
            ["mutations", "failing commands that changed their file", m.changedOnFailure, 0],
            ["mutations", "lock or temp files left", m.leftFiles, 0],
            ["mutations", "binary and in-process exit codes differ", m.binaryMismatches.length, 0],
            ["mutations", "cases with any violation (listed in --json)", m.violatingCases.length, 0],
            ["mutations", "duration (s)", m.seconds.toFixed(0), ""],
        )
    }
    const t = f.tamper
    if (t) {
        out.push(
            ["tamper", "file size (bytes) / decrypts tried", `${t.fileBytes} / ${t.tries}`, ""],
            ["tamper", "detected (exit codes)", `${t.detected} (${Object.entries(t.detectedByCode).map(([c, n]) => `${c}: ${n}`).join(", ")})`, ""],
            ["tamper", "accepted, same plaintext", t.acceptedSamePlaintext, ""],
            ["tamper", "accepted, changed where sops does not authenticate", `${t.acceptedFormatLimit} (${Object.entries(t.acceptedFormatLimitByKind).map(([c, n]) => `${c}: ${n}`).join(", ") || "none"})`, ""],
            ["tamper", "UNDETECTED (exit 0, other output)", t.undetected.length, 0],
            ["tamper", "stack traces / internal errors", t.stackTraces.length + t.internalErrors.length, 0],
            ["tamper", "values on stderr", t.valuesOnStderr.length, 0],
            ["tamper", "duration (s)", t.seconds.toFixed(0), ""],
        )
    }
    return out
}

export function reportTable(report) {
    const lines = [
        `seed ${report.seed}, ${report.started}, ${report.machine.nproc} cores, load ${report.machine.loadavg.join(" ")} at start and ${report.machine.loadavgAtEnd.join(" ")} at end, Node ${report.machine.node}, ${Math.round(report.seconds)} s`,
        "",
        "| campaign | figure | value | required | ok |",
        "| --- | --- | --- | --- | --- |",
    ]
    for (const [c, name, value, req] of rows(report.figures)) {
        const ok = req === "" ? "" : String(value) === String(req) ? "ok" : "**FAIL**"
        lines.push(`| ${c} | ${name} | ${value} | ${req} | ${ok} |`)
    }
    return `${lines.join("\n")}\n`
}

/** The figures that miss what they require, as "campaign: figure = value". */
export function violated(figures) {
    return rows(figures)
        .filter(([, , value, req]) => req !== "" && String(value) !== String(req))
        .map(([c, name, value]) => `${c}: ${name} = ${value}`)
}
