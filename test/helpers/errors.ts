import { SecretsError } from "../../src/errors.js"

/** The SecretsError a promise rejects with; fails the test if it resolves or rejects otherwise. */
export async function caught(p: Promise<unknown>): Promise<SecretsError> {
    try {
        await p
    } catch (e) {
        if (e instanceof SecretsError) return e
        throw e
    }
    throw new Error("expected a SecretsError")
}

/** The error a function throws; fails the test if it returns. */
export function thrown(f: () => unknown): Error {
    try {
        f()
    } catch (e) {
        return e as Error
    }
    throw new Error("did not throw")
}
