/**
 * The loader chain of `secrets get` (issue 13 point 4) as properties: for any
 * order (any subset of the loaders, in any order) and any presence of a name
 * across the loaders, the value comes from the first loader in the order that
 * has it, no loader after it (nor outside the order) is asked, and a loader that
 * fails fails the chain only when it is reached before any hit.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { LOADERS, type LoaderName } from "../../../src/config/profiles.js"
import { firstHit, type Loader } from "../../../src/run/loader-chain.js"

/** What one loader does when asked: has the name, does not, or fails (op signed out). */
type Behaviour = "has" | "lacks" | "fails"

const behaviours = fc.record(Object.fromEntries(LOADERS.map((l) => [l, fc.constantFrom<Behaviour>("has", "lacks", "fails")])) as Record<LoaderName, fc.Arbitrary<Behaviour>>)
const orders = fc.shuffledSubarray([...LOADERS], { minLength: 1 })

/** Loaders that record the names they were asked for and answer as `b` says; each value names its loader. */
function recordingLoaders(b: Record<LoaderName, Behaviour>): { loaders: Loader[]; asked: LoaderName[] } {
    const asked: LoaderName[] = []
    const loaders = LOADERS.map(
        (name): Loader => ({
            name,
            lookup: async (wanted) => {
                asked.push(name)
                if (b[name] === "fails") throw new Error(`${name} failed`)
                return b[name] === "has" ? { value: `${wanted} from ${name}`, source: name } : undefined
            },
        }),
    )
    return { loaders, asked }
}

describe("firstHit", () => {
    it("takes the value from the first loader in the order that has it, and asks no loader after it", async () => {
        await fc.assert(
            fc.asyncProperty(orders, behaviours, async (order, b) => {
                const { loaders, asked } = recordingLoaders(b)
                const firstAnswering = order.findIndex((l) => b[l] !== "lacks")
                const result = firstHit(order, loaders, "DB_PASSWORD")
                if (firstAnswering === -1) {
                    expect(await result).toBeUndefined()
                    expect(asked).toEqual(order)
                    return
                }
                const decider = order[firstAnswering]!
                if (b[decider] === "fails") await expect(result).rejects.toThrow(`${decider} failed`)
                else expect(await result).toEqual({ loader: decider, value: `DB_PASSWORD from ${decider}`, source: decider })
                // Exactly the loaders up to the one that decided, in order: none after it, none outside the order.
                expect(asked).toEqual(order.slice(0, firstAnswering + 1))
            }),
            { numRuns: 300 },
        )
    })

    it("a name in several loaders always comes from the earliest of them in the order", async () => {
        await fc.assert(
            fc.asyncProperty(orders, fc.subarray([...LOADERS], { minLength: 1 }), async (order, having) => {
                const b = Object.fromEntries(LOADERS.map((l) => [l, having.includes(l) ? "has" : "lacks"])) as Record<LoaderName, Behaviour>
                const hit = await firstHit(order, recordingLoaders(b).loaders, "X")
                const expected = order.find((l) => having.includes(l))
                expect(hit?.loader).toBe(expected)
            }),
            { numRuns: 200 },
        )
    })

    it("skips an ordered loader it was not given (nothing to look in)", async () => {
        const { loaders, asked } = recordingLoaders({ env: "lacks", files: "has", op: "has" })
        const hit = await firstHit(["op", "env", "files"], loaders.filter((l) => l.name !== "op"), "X")
        expect(hit).toEqual({ loader: "files", value: "X from files", source: "files" })
        expect(asked).toEqual(["env", "files"])
    })
})
