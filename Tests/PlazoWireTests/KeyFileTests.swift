import Foundation
import PlazoModel
import PlazoSodium
import Testing

@testable import PlazoWire

@Suite("Key files")
struct KeyFileTests {
    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "plazo-keys-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("a secret key file is written with mode 0600, a public one 0644, and both read back")
    func writeAndRead() throws {
        let dir = try temporaryDirectory()
        let pair = try SigningKeyPair.derive(seed: [UInt8](repeating: 9, count: 32))
        let id = KeyID.of(pair.publicKey)
        let secret = KeyFile(kind: .agencySigningSecret, keyID: id, created: "t", key: SecretBytes(copying: [UInt8](repeating: 9, count: 32)))
        let publicFile = KeyFile(kind: .agencySigningPublic, keyID: id, created: "t", key: SecretBytes(copying: pair.publicKey.bytes))
        try secret.write(to: dir + "/a.secret")
        try publicFile.write(to: dir + "/a.public")
        let mode = { (p: String) in (try FileManager.default.attributesOfItem(atPath: p)[.posixPermissions] as! NSNumber).intValue }
        #expect(try mode(dir + "/a.secret") == 0o600)
        #expect(try mode(dir + "/a.public") == 0o644)
        let back = try KeyFile.read(dir + "/a.secret", expecting: .agencySigningSecret)
        #expect(try back.signingKeyPair().publicKey == pair.publicKey)
        #expect(try KeyFile.read(dir + "/a.public", expecting: .agencySigningPublic).signingPublicKey() == pair.publicKey)
        #expect(throws: KeyFileError.alreadyExists(path: dir + "/a.secret")) { try secret.write(to: dir + "/a.secret") }
    }

    @Test("using the wrong kind of key file gives an error naming both kinds")
    func wrongKind() throws {
        let dir = try temporaryDirectory()
        let box = try BoxKeyPair.generate()
        try KeyFile(kind: .serviceBoxPublic, keyID: KeyID.of(box.publicKey), created: "t", key: SecretBytes(copying: box.publicKey.bytes))
            .write(to: dir + "/s.public")
        #expect(throws: KeyFileError.wrongKind(path: dir + "/s.public", expected: .agencySigningSecret, found: "service-box-public")) {
            try KeyFile.read(dir + "/s.public", expecting: .agencySigningSecret)
        }
        #expect(KeyFileError.wrongKind(path: "x", expected: .linkage, found: "service-box-public").description.contains("linkage-key"))
    }

    @Test("a key file whose key-id does not match its key, or that is not a key file, is refused")
    func corruptFiles() throws {
        let box = try BoxKeyPair.generate()
        var text = KeyFile(kind: .serviceBoxPublic, keyID: KeyID.of(box.publicKey), created: "t", key: SecretBytes(copying: box.publicKey.bytes)).render()
        let keyLine = text.split(separator: "\n").first { $0.hasPrefix("key: ") }!
        let flipped = "key: " + (keyLine.dropFirst(5).first == "0" ? "1" : "0") + keyLine.dropFirst(6)
        text = text.replacingOccurrences(of: String(keyLine), with: flipped)
        #expect(throws: KeyFileError.keyIDMismatch(path: "p")) { try KeyFile.parse(text, path: "p") }
        #expect(throws: KeyFileError.notAKeyFile(path: "p")) { try KeyFile.parse("hello", path: "p") }
        #expect(throws: KeyFileError.self) { try KeyFile.parse("plazo-key v1\nkind: nonsense\n", path: "p") }
        #expect(throws: KeyFileError.self) { try KeyFile.read("/nonexistent/file", expecting: .linkage) }
    }

    @Test("rendering a key file never happens through description: secrets stay redacted")
    func redaction() throws {
        let key = SecretBytes(copying: [UInt8](repeating: 0xAB, count: 32))
        let file = KeyFile(kind: .linkage, keyID: KeyFile.linkageKeyID(key), created: "t", key: key)
        #expect(!String(describing: file).contains("abab"))
    }
}

@Suite("Receipts")
struct ReceiptTests {
    func sample() throws -> (Receipt, SigningKeyPair, [UInt8]) {
        let service = try SigningKeyPair.generate()
        let batch: [UInt8] = Array("pretend these are batch bytes".utf8)
        var r = Receipt(
            batchID: try BatchID.random(), batchDigest: Receipt.digest(of: batch), agencyID: 9, receivedAt: 1_800_000_000,
            recordCount: 10, accepted: 8, newEvents: 6,
            rejected: [.init(index: 2, reason: .codeOutOfRange), .init(index: 7, reason: .dayInFuture)],
            serviceKeyID: KeyID.of(service.publicKey)
        )
        try r.sign(with: service)
        return (r, service, batch)
    }

    @Test("a signed receipt round-trips through its canonical bytes and verifies against its batch")
    func roundTrip() throws {
        let (r, service, batch) = try sample()
        let bytes = r.encoded()
        #expect(bytes.count == 84 + 10 + 8 + 64)
        let back = try Receipt.parse(bytes)
        #expect(back == r)
        try back.verify(serviceKey: service.publicKey, batch: batch)
        #expect(throws: ReceiptError.doesNotMatchBatch) { try back.verify(serviceKey: service.publicKey, batch: batch + [0]) }
    }

    @Test("a receipt with any flipped byte fails to parse or to verify")
    func tamper() throws {
        let (r, service, _) = try sample()
        let bytes = r.encoded()
        for i in bytes.indices {
            var t = bytes
            t[i] ^= 0x10
            let parsed = try? Receipt.parse(t)
            if let parsed { #expect(throws: ReceiptError.self) { try parsed.verify(serviceKey: service.publicKey) } }
        }
        let other = try SigningKeyPair.generate()
        #expect(throws: ReceiptError.wrongServiceKey) { try r.verify(serviceKey: other.publicKey) }
    }
}

@Suite("Secret key file permissions")
struct KeyFilePermissionTests {
    @Test("a secret key file readable by group or others is refused with the chmod to run; 0600 is used")
    func openSecretRefused() throws {
        let dir = NSTemporaryDirectory() + "plazo-perm-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let seed = [UInt8](repeating: 9, count: 32)
        let pair = try SigningKeyPair.derive(seed: seed)
        let path = dir + "/agency-signing.secret"
        try KeyFile(kind: .agencySigningSecret, keyID: KeyID.of(pair.publicKey), created: "now", key: SecretBytes(copying: seed)).write(to: path)
        _ = try KeyFile.read(path, expecting: .agencySigningSecret)
        chmod(path, 0o644)
        do {
            _ = try KeyFile.read(path, expecting: .agencySigningSecret)
            Issue.record("a 0644 secret key was used")
        } catch {
            #expect(error == .permissionsTooOpen(path: path, mode: 0o644))
            #expect(error.description.contains("chmod 600 '\(path)'") && error.description.contains("0644"))
        }
    }
}
