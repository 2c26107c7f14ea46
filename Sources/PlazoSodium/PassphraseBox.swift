import CSodium

/// Secret-key encryption under a passphrase, for key escrow (`plazo keys backup`):
/// `crypto_pwhash` (Argon2id13) derives a 32-byte key from the passphrase and a random salt,
/// `crypto_secretbox_easy` (XSalsa20-Poly1305) encrypts and authenticates.
///
/// Sealed form: `"PLZK" ‖ version 1 ‖ opslimit (u64 LE) ‖ memlimit (u64 LE) ‖ salt (16) ‖
/// nonce (24) ‖ ciphertext + MAC (16)`. The cost parameters travel with the box so that an archive
/// written with stronger settings still opens.
public enum PassphraseBox {
    static let magic: [UInt8] = Array("PLZK".utf8) + [1]
    static let saltBytes = Int(crypto_pwhash_SALTBYTES)
    static let nonceBytes = Int(crypto_secretbox_NONCEBYTES)
    static let macBytes = Int(crypto_secretbox_MACBYTES)
    static let headerBytes = 5 + 8 + 8 + 16 + 24

    /// libsodium's "moderate" Argon2id cost (3 passes, 256 MiB): about a second here, for a file
    /// opened rarely.
    public static let moderate = (ops: UInt64(crypto_pwhash_OPSLIMIT_MODERATE), mem: UInt64(crypto_pwhash_MEMLIMIT_MODERATE))
    /// The interactive cost (2 passes, 64 MiB), for tests.
    public static let interactive = (ops: UInt64(crypto_pwhash_OPSLIMIT_INTERACTIVE), mem: UInt64(crypto_pwhash_MEMLIMIT_INTERACTIVE))

    /// Encrypts `plaintext` under `passphrase`.
    public static func seal(
        _ plaintext: SecretBytes, passphrase: SecretBytes, cost: (ops: UInt64, mem: UInt64) = moderate
    ) throws(SodiumError) -> [UInt8] {
        try Sodium.ensureInitialised()
        let salt = try SecureRandom.bytes(saltBytes)
        let nonce = try SecureRandom.bytes(nonceBytes)
        let key = try deriveKey(passphrase: passphrase, salt: salt, cost: cost)
        var out = magic
        for v in [cost.ops, cost.mem] { for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
        out += salt + nonce
        var box = [UInt8](repeating: 0, count: plaintext.count + macBytes)
        let rc = plaintext.withUnsafeBytes { m in
            key.withUnsafeBytes { k in
                crypto_secretbox_easy(
                    &box, m.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count), nonce,
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        if rc != 0 { throw .primitiveFailed("crypto_secretbox_easy") }
        return out + box
    }

    /// Decrypts a box made by ``seal(_:passphrase:cost:)``; throws ``SodiumError/sealedBoxOpenFailed``
    /// for a wrong passphrase or altered bytes.
    public static func open(_ sealed: [UInt8], passphrase: SecretBytes) throws(SodiumError) -> SecretBytes {
        try Sodium.ensureInitialised()
        guard sealed.count >= headerBytes + macBytes, Array(sealed[0..<5]) == magic else { throw .sealedBoxOpenFailed }
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(sealed[at + $1]) << (8 * UInt64($1)) } }
        let cost = (ops: u64(5), mem: u64(13))
        guard cost.ops <= UInt64(crypto_pwhash_OPSLIMIT_SENSITIVE) * 4, cost.mem <= UInt64(crypto_pwhash_MEMLIMIT_SENSITIVE) * 2 else {
            throw .sealedBoxOpenFailed
        }
        let salt = Array(sealed[21..<37])
        let nonce = Array(sealed[37..<61])
        let box = Array(sealed[61...])
        let key = try deriveKey(passphrase: passphrase, salt: salt, cost: cost)
        var failed = false
        let plain = SecretBytes(count: box.count - macBytes) { (out: UnsafeMutableRawBufferPointer) in
            var scratch: UInt8 = 0
            let target = out.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? withUnsafeMutablePointer(to: &scratch) { $0 }
            let rc = key.withUnsafeBytes { k in
                crypto_secretbox_open_easy(target, box, UInt64(box.count), nonce, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            failed = rc != 0
        }
        if failed { throw .sealedBoxOpenFailed }
        return plain
    }

    static func deriveKey(passphrase: SecretBytes, salt: [UInt8], cost: (ops: UInt64, mem: UInt64)) throws(SodiumError) -> SecretBytes {
        var failed = false
        let key = SecretBytes(count: Int(crypto_secretbox_KEYBYTES)) { (out: UnsafeMutableRawBufferPointer) in
            let rc = passphrase.withUnsafeBytes { p in
                crypto_pwhash(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(out.count),
                    p.baseAddress!.assumingMemoryBound(to: CChar.self), UInt64(passphrase.count), salt,
                    cost.ops, Int(cost.mem), crypto_pwhash_ALG_ARGON2ID13)
            }
            failed = rc != 0
        }
        if failed { throw .primitiveFailed("crypto_pwhash (out of memory?)") }
        return key
    }
}
