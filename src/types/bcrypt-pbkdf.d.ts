// bcrypt-pbkdf ships no types (and there is no @types package); only what we call.
declare module "bcrypt-pbkdf" {
    /** OpenBSD's bcrypt_pbkdf: fills `key[0..keylen)`. Returns 0, or -1 for bad arguments. */
    export function pbkdf(
        pass: Uint8Array,
        passlen: number,
        salt: Uint8Array,
        saltlen: number,
        key: Uint8Array,
        keylen: number,
        rounds: number,
    ): number
}
