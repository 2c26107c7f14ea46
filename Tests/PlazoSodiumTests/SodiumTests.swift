import Foundation
import Testing
@testable import PlazoSodium

@Suite("libsodium bridge")
struct SodiumTests {
    @Test("a sealed box opens with the recipient's key and not with another")
    func sealedBoxRoundTrip() throws {
        let recipient = try BoxKeyPair.generate()
        let other = try BoxKeyPair.generate()
        let message: [UInt8] = Array("de-identified payload".utf8)
        let sealed = try SealedBox.seal(message, to: recipient.publicKey)
        #expect(sealed.count == message.count + SealedBox.overhead)
        #expect(try SealedBox.open(sealed, with: recipient) == message)
        #expect(throws: SodiumError.sealedBoxOpenFailed) { try SealedBox.open(sealed, with: other) }
    }

    @Test("every flipped bit of a sealed box makes it fail to open")
    func sealedBoxTamper() throws {
        let recipient = try BoxKeyPair.generate()
        let sealed = try SealedBox.seal([1, 2, 3, 4, 5, 6, 7, 8], to: recipient.publicKey)
        for index in sealed.indices {
            var tampered = sealed
            tampered[index] ^= 0x01
            #expect(throws: SodiumError.sealedBoxOpenFailed) { try SealedBox.open(tampered, with: recipient) }
        }
        #expect(throws: SodiumError.sealedBoxOpenFailed) { try SealedBox.open(Array(sealed.prefix(47)), with: recipient) }
    }

    @Test("an empty message seals and opens")
    func emptySealedBox() throws {
        let recipient = try BoxKeyPair.generate()
        let sealed = try SealedBox.seal([], to: recipient.publicKey)
        #expect(try SealedBox.open(sealed, with: recipient) == [])
    }

    @Test("a detached signature verifies and any change to message or signature is refused")
    func signatures() throws {
        let signer = try SigningKeyPair.generate()
        let message: [UInt8] = Array("header and ciphertext".utf8)
        let signature = try Signature.sign(message, with: signer)
        #expect(signature.count == 64)
        try Signature.verify(signature, of: message, by: signer.publicKey)
        var badMessage = message
        badMessage[0] ^= 0x80
        #expect(throws: SodiumError.signatureInvalid) { try Signature.verify(signature, of: badMessage, by: signer.publicKey) }
        var badSignature = signature
        badSignature[63] ^= 0x01
        #expect(throws: SodiumError.signatureInvalid) { try Signature.verify(badSignature, of: message, by: signer.publicKey) }
        let stranger = try SigningKeyPair.generate()
        #expect(throws: SodiumError.signatureInvalid) { try Signature.verify(signature, of: message, by: stranger.publicKey) }
        #expect(throws: SodiumError.invalidLength(what: "signature", expected: 64, actual: 63)) {
            try Signature.verify(Array(signature.prefix(63)), of: message, by: signer.publicKey)
        }
    }

    @Test("seeded key derivation is deterministic and the public key is recovered from the secret key")
    func seededKeys() throws {
        let seed = [UInt8](repeating: 7, count: 32)
        let a = try SigningKeyPair.derive(seed: seed)
        let b = try SigningKeyPair.derive(seed: seed)
        #expect(a.publicKey == b.publicKey)
        #expect(try SigningKeyPair(secretKey: a.secretKey).publicKey == a.publicKey)
        let box = try BoxKeyPair.derive(seed: seed)
        #expect(try BoxKeyPair.publicKey(for: box.secretKey) == box.publicKey)
        #expect(throws: SodiumError.invalidLength(what: "signing seed", expected: 32, actual: 31)) {
            try SigningKeyPair.derive(seed: Array(seed.prefix(31)))
        }
    }

    @Test("BLAKE2b matches the RFC 7693 test vector and keyed hashing depends on the key")
    func blake2b() throws {
        // RFC 7693 Appendix A: BLAKE2b-512("abc").
        let expected =
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
            + "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
        #expect(hex(try GenericHash.hash(Array("abc".utf8), outputLength: 64)) == expected)
        let k1 = SecretBytes(copying: [UInt8](repeating: 1, count: 32))
        let k2 = SecretBytes(copying: [UInt8](repeating: 2, count: 32))
        let m: [UInt8] = Array("CASE-2024-000123".utf8)
        let h1 = try GenericHash.keyedHash(m, key: k1, outputLength: 16)
        #expect(h1 == (try GenericHash.keyedHash(m, key: k1, outputLength: 16)))
        #expect(h1 != (try GenericHash.keyedHash(m, key: k2, outputLength: 16)))
        #expect(throws: SodiumError.lengthOutOfRange(what: "generichash output", range: 16...64, actual: 8)) {
            try GenericHash.keyedHash(m, key: k1, outputLength: 8)
        }
        let shortKey = SecretBytes(copying: [UInt8](repeating: 1, count: 8))
        #expect(throws: SodiumError.lengthOutOfRange(what: "generichash key", range: 16...64, actual: 8)) {
            try GenericHash.keyedHash(m, key: shortKey, outputLength: 16)
        }
    }

    @Test("secret bytes never print their content")
    func secretsDoNotPrint() throws {
        let secret = SecretBytes(copying: Array("topsecretvalue!!".utf8))
        #expect(!"\(secret)".contains("topsecret"))
        #expect(!String(reflecting: secret).contains("topsecret"))
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("topsecret"))
        #expect(!dumped.contains("116"))  // 't' as a byte value
        #expect(secret.constantTimeEquals(SecretBytes(copying: Array("topsecretvalue!!".utf8))))
        #expect(!secret.constantTimeEquals(SecretBytes(copying: Array("topsecretvalue!?".utf8))))
    }

    @Test("the CSPRNG gives distinct buffers and uniform integers in range")
    func randomness() throws {
        #expect(try SecureRandom.bytes(16) != (try SecureRandom.bytes(16)))
        for _ in 0..<1000 { #expect(try SecureRandom.uniform(below: 7) < 7) }
        #expect(throws: SodiumError.self) { try SecureRandom.uniform(below: 0) }
    }

    /// Encrypts `chunks` as one stream; the last is final.
    static func encrypt(_ chunks: [[UInt8]], key: SecretBytes, additionalData: [UInt8] = []) throws -> (header: [UInt8], sealed: [[UInt8]]) {
        let stream = try SecretStream.Encryptor(key: key)
        var sealed: [[UInt8]] = []
        for (i, chunk) in chunks.enumerated() {
            var out = [UInt8](repeating: 0, count: chunk.count + SecretStream.overhead)
            try chunk.withUnsafeBytes { c in
                try out.withUnsafeMutableBytes { o in
                    try stream.push(c, additionalData: i == 0 ? additionalData : [], final: i == chunks.count - 1, into: o)
                }
            }
            sealed.append(out)
        }
        return (stream.header, sealed)
    }

    /// Decrypts a stream; the flags say which chunks were final.
    static func decrypt(_ sealed: [[UInt8]], header: [UInt8], key: SecretBytes, additionalData: [UInt8] = []) throws -> (chunks: [[UInt8]], finals: [Bool]) {
        let stream = try SecretStream.Decryptor(key: key, header: header)
        var chunks: [[UInt8]] = []
        var finals: [Bool] = []
        for (i, chunk) in sealed.enumerated() {
            var out = [UInt8](repeating: 0, count: chunk.count - SecretStream.overhead)
            let final = try chunk.withUnsafeBytes { c in
                try out.withUnsafeMutableBytes { o in try stream.pull(c, additionalData: i == 0 ? additionalData : [], into: o) }
            }
            chunks.append(out)
            finals.append(final)
        }
        return (chunks, finals)
    }

    @Test("a secret stream decrypts in order under its key and refuses altered, reordered, foreign or extra chunks")
    func secretStream() throws {
        let key = try SecretBytes.random(count: SecretStream.keyByteCount)
        let chunks: [[UInt8]] = [Array(repeating: 1, count: 1000), Array("second".utf8), Array(repeating: 7, count: 33)]
        let ad: [UInt8] = Array("header".utf8)
        let (header, sealed) = try Self.encrypt(chunks, key: key, additionalData: ad)
        let opened = try Self.decrypt(sealed, header: header, key: key, additionalData: ad)
        #expect(opened.chunks == chunks)
        #expect(opened.finals == [false, false, true])
        #expect(throws: SodiumError.streamInvalid) { try Self.decrypt(sealed, header: header, key: key, additionalData: Array("other".utf8)) }
        #expect(throws: SodiumError.streamInvalid) { try Self.decrypt([sealed[1], sealed[0], sealed[2]], header: header, key: key, additionalData: ad) }
        #expect(throws: SodiumError.streamInvalid) { try Self.decrypt(sealed + [sealed[2]], header: header, key: key, additionalData: ad) }
        var altered = sealed
        altered[1][3] ^= 1
        #expect(throws: SodiumError.streamInvalid) { try Self.decrypt(altered, header: header, key: key, additionalData: ad) }
        let other = try SecretBytes.random(count: SecretStream.keyByteCount)
        #expect(throws: SodiumError.streamInvalid) { try Self.decrypt(sealed, header: header, key: other, additionalData: ad) }
        // Truncated: every chunk opens, but none says it was the last.
        #expect(try Self.decrypt(Array(sealed.prefix(2)), header: header, key: key, additionalData: ad).finals == [false, false])
    }

    @Test("derived keys depend on the secret and the context, and stay secret")
    func derivedKeys() throws {
        let secret = try SecretBytes.random(count: 32)
        let a = try GenericHash.deriveKey(from: secret, context: Array("purpose a".utf8))
        #expect(a.count == 32)
        #expect(a.constantTimeEquals(try GenericHash.deriveKey(from: secret, context: Array("purpose a".utf8))))
        #expect(!a.constantTimeEquals(try GenericHash.deriveKey(from: secret, context: Array("purpose b".utf8))))
        #expect(!a.constantTimeEquals(try GenericHash.deriveKey(from: SecretBytes.random(count: 32), context: Array("purpose a".utf8))))
        // The same as keyed BLAKE2b.
        let keyed = try GenericHash.keyedHash(Array("purpose a".utf8), key: secret, outputLength: 32)
        #expect(a.constantTimeEquals(SecretBytes(copying: keyed)))
    }

    @Test("constant-time comparison agrees with equality")
    func constantTime() {
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
        #expect(ConstantTime.equals([], []))
    }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}
