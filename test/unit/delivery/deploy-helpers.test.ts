/** The pure parts of `secrets deploy`: where /run is mounted, the systemctl argv, item diffs. */
import { describe, expect, it } from "vitest"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { diffManifests } from "../../../src/delivery/deploy-plan.js"
import { loadHostIdentities } from "../../../src/delivery/deploy-sources.js"
import { tempDir } from "../../helpers/tmp.js"
import { fsTypeOf, parseMountinfo } from "../../../src/delivery/run-mount.js"
import { systemctlArgv } from "../../../src/integrations/systemctl.js"

const MOUNTINFO = [
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
    "25 22 0:23 / /run rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,mode=755",
    "26 25 0:24 / /run/user/1000 rw shared:6 - tmpfs tmpfs rw",
    "30 22 8:2 / /srv/my\\040disk rw shared:9 master:2 - xfs /dev/sda2 rw",
    "31 22 8:3 / /tmp rw shared:10 - ext4 /dev/sda3 rw",
].join("\n")

describe("run-mount", () => {
    const mounts = parseMountinfo(MOUNTINFO)

    it("finds the file system of the deepest mount above a path", () => {
        expect(fsTypeOf(mounts, "/run/secrets.d/3")).toBe("tmpfs")
        expect(fsTypeOf(mounts, "/runner/x")).toBe("ext4")
        expect(fsTypeOf(mounts, "/tmp/secrets-test-1/run")).toBe("ext4")
        // Octal escapes in mount points (a space here), and optional fields before "-".
        expect(fsTypeOf(mounts, "/srv/my disk/root/run")).toBe("xfs")
    })

    it("lets a later mount on the same point shadow an earlier one", () => {
        const stacked = parseMountinfo(`${MOUNTINFO}\n40 31 0:40 / /tmp rw - tmpfs tmpfs rw`)
        expect(fsTypeOf(stacked, "/tmp/x/run")).toBe("tmpfs")
    })
})

describe("systemctl argv", () => {
    it("is the verb and one unit, --no-block first when asked", () => {
        expect(systemctlArgv({ verb: "try-restart", unit: "app.service" })).toEqual(["try-restart", "app.service"])
        expect(systemctlArgv({ verb: "try-reload-or-restart", unit: "nginx.service" }, { noBlock: true })).toEqual(["--no-block", "try-reload-or-restart", "nginx.service"])
    })
})

describe("diffManifests", () => {
    const item = (name: string, sha: string, mode = 0o400) => ({ name, sha256: sha.repeat(64), mode, uid: 0, gid: 0, restartUnits: [], reloadUnits: [] })
    it("tells added, changed, permission-only, unchanged and removed items apart", () => {
        const before = { generation: 1, created: "", items: [item("a", "1"), item("b", "2"), item("c", "3"), item("gone", "4")] }
        const next = { generation: 0, created: "", items: [item("a", "1"), item("b", "5"), item("c", "3", 0o440), item("new", "6")] }
        expect(diffManifests(before, next)).toEqual([
            { name: "a", change: "unchanged" },
            { name: "b", change: "changed" },
            { name: "c", change: "permissions" },
            { name: "new", change: "added" },
            { name: "gone", change: "removed" },
        ])
        expect(diffManifests(undefined, next).map((c) => c.change)).toEqual(["added", "added", "added", "added"])
    })
})

describe("the host's identities", () => {
    it("notes a missing or unusable default host key (an error only if nothing else opens a file)", async () => {
        const root = tempDir()
        expect(await loadHostIdentities(root, [])).toEqual({ identities: [], lookedIn: [`host key ${join(root, "etc/ssh/ssh_host_ed25519_key")} (not found)`] })
        mkdirSync(join(root, "etc/ssh"), { recursive: true })
        writeFileSync(join(root, "etc/ssh/ssh_host_ed25519_key"), "not a key\n")
        const found = await loadHostIdentities(root, [])
        expect(found.identities).toEqual([])
        expect(found.lookedIn[0]).toMatch(/^host key .*ssh_host_ed25519_key \(unusable: /)
        expect(found.lookedIn[0]).not.toContain("not a key")
    })

    it("refuses an --identity that cannot be read (it was asked for), exit 128", async () => {
        await expect(loadHostIdentities("/", [join(tempDir(), "nope")])).rejects.toMatchObject({ code: 128 })
    })
})
