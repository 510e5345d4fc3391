/**
 * deploy/secrets-deploy.{service,path,timer} (issue 12 point 5). systemd cannot run
 * here or in CI (no `systemd-analyze verify`), so the unit files are read as the
 * INI-like files they are and the fields that make them work are checked: a oneshot
 * that the path and timer units can start again, absolute paths, the path unit
 * watching the same checkout the service deploys from.
 */
import { readFileSync } from "node:fs"
import { isAbsolute, resolve } from "node:path"
import { describe, expect, it } from "vitest"

const DIR = resolve(import.meta.dirname, "../../../deploy")

type Unit = Map<string, Map<string, string[]>>

/** systemd.syntax(7), the subset these files use: sections, Key=Value, # and ; comments, repeated keys. */
function parseUnit(text: string, file: string): Unit {
    const unit: Unit = new Map()
    let section: Map<string, string[]> | undefined
    for (const [i, raw] of text.split("\n").entries()) {
        const line = raw.trim()
        if (line === "" || line.startsWith("#") || line.startsWith(";")) continue
        const header = /^\[([A-Za-z]+)\]$/.exec(line)
        if (header) {
            section = new Map()
            unit.set(header[1] ?? "", section)
            continue
        }
        const kv = /^([A-Za-z]+)=(.*)$/.exec(line)
        if (!kv || section === undefined) throw new Error(`${file}:${i + 1}: not a section header or Key=Value: ${line}`)
        const [, key = "", value = ""] = kv
        section.set(key, [...(section.get(key) ?? []), value])
    }
    return unit
}

const read = (name: string) => parseUnit(readFileSync(resolve(DIR, name), "utf8"), name)
const one = (unit: Unit, section: string, key: string) => {
    const values = unit.get(section)?.get(key) ?? []
    expect(values, `${section}.${key}`).toHaveLength(1)
    return values[0] ?? ""
}

describe("deploy/ systemd units", () => {
    const service = read("secrets-deploy.service")
    const checkout = one(service, "Service", "WorkingDirectory")

    it("secrets-deploy.service runs `secrets deploy` once, from the checkout, by absolute path", () => {
        expect(one(service, "Service", "Type")).toBe("oneshot")
        const [program, ...args] = one(service, "Service", "ExecStart").split(/\s+/)
        expect(isAbsolute(program ?? "")).toBe(true)
        expect(program).toMatch(/\/secrets$/)
        expect(args[0]).toBe("deploy")
        expect(isAbsolute(checkout)).toBe(true)
        // An active RemainAfterExit oneshot is not started again: the path and timer units would do nothing.
        expect(service.get("Service")?.get("RemainAfterExit") ?? ["no"]).toEqual(["no"])
        expect(one(service, "Service", "UMask")).toBe("0077")
        expect(one(service, "Install", "WantedBy")).toBe("multi-user.target")
        expect(one(service, "Unit", "ConditionPathExists")).toBe(`${checkout}/.sops.yaml`)
    })

    it("secrets-deploy.path starts the service when the same checkout moves or .sops.yaml changes", () => {
        const path = read("secrets-deploy.path")
        expect(one(path, "Path", "Unit")).toBe("secrets-deploy.service")
        const watched = path.get("Path")?.get("PathChanged") ?? []
        expect(watched).toEqual([`${checkout}/.git/logs/HEAD`, `${checkout}/.sops.yaml`])
        expect(one(path, "Install", "WantedBy")).toBe("paths.target")
    })

    it("secrets-deploy.timer starts the service after boot and periodically", () => {
        const timer = read("secrets-deploy.timer")
        expect(one(timer, "Timer", "Unit")).toBe("secrets-deploy.service")
        expect(one(timer, "Timer", "OnBootSec")).toMatch(/^\d+(min|s|h)$/)
        expect(one(timer, "Timer", "OnUnitActiveSec")).toMatch(/^\d+(min|s|h)$/)
        expect(one(timer, "Install", "WantedBy")).toBe("timers.target")
    })

    it("deploy/README.md installs each unit it ships", () => {
        const readme = readFileSync(resolve(DIR, "README.md"), "utf8")
        for (const unit of ["secrets-deploy.service", "secrets-deploy.path", "secrets-deploy.timer"]) expect(readme).toContain(`deploy/${unit}`)
        expect(readme).toContain("systemctl daemon-reload")
    })
})
