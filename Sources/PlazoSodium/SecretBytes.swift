import CSodium

/// Secret key material held in memory that is locked against swapping where the system allows
/// it, zeroed with `sodium_memzero` when the last reference goes away, and never printed:
/// `description`, `debugDescription` and `dump()` all show only the length.
///
/// The bytes are immutable after creation, which makes the type safe to share across tasks.
public final class SecretBytes: @unchecked Sendable {
    private let pointer: UnsafeMutableRawPointer
    /// The number of secret bytes.
    public let count: Int

    /// Allocates `count` bytes and lets `initialise` fill them. The buffer is zeroed before
    /// `initialise` runs, so a throwing initialiser leaves nothing behind.
    public init<E: Error>(
        count: Int,
        initialise: (UnsafeMutableRawBufferPointer) throws(E) -> Void
    ) throws(E) {
        precondition(count >= 0)
        self.count = count
        self.pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 16)
        sodium_memzero(pointer, max(count, 1))
        _ = sodium_mlock(pointer, max(count, 1))  // best effort: RLIMIT_MEMLOCK may refuse
        do {
            try initialise(UnsafeMutableRawBufferPointer(start: pointer, count: count))
        } catch {
            Self.wipe(pointer, count)
            throw error
        }
    }

    /// Copies `bytes` into secret memory. The caller should wipe its own copy if it can.
    public convenience init(copying bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        self.init(count: array.count) { (buffer: UnsafeMutableRawBufferPointer) in
            buffer.copyBytes(from: array)
        }
    }

    /// `count` bytes from the libsodium CSPRNG.
    public static func random(count: Int) throws(SodiumError) -> SecretBytes {
        try Sodium.ensureInitialised()
        return SecretBytes(count: count) { (buffer: UnsafeMutableRawBufferPointer) in
            if let base = buffer.baseAddress { randombytes_buf(base, buffer.count) }
        }
    }

    deinit {
        Self.wipe(pointer, count)
    }

    private static func wipe(_ pointer: UnsafeMutableRawPointer, _ count: Int) {
        // sodium_munlock zeroes the memory before unlocking it; zero explicitly as well in case
        // the lock had been refused.
        sodium_memzero(pointer, max(count, 1))
        _ = sodium_munlock(pointer, max(count, 1))
        pointer.deallocate()
    }

    /// Gives temporary read access to the secret bytes. Do not let the pointer escape.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Constant-time equality of two secrets.
    public func constantTimeEquals(_ other: SecretBytes) -> Bool {
        guard count == other.count else { return false }
        return withUnsafeBytes { a in other.withUnsafeBytes { b in ConstantTime.equals(a, b) } }
    }
}

extension SecretBytes: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "SecretBytes(\(count) bytes, redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["count": count], displayStyle: .class) }
}

/// Constant-time comparison (`sodium_memcmp`).
public enum ConstantTime {
    /// True when both buffers have the same length and the same bytes. The time taken depends
    /// only on the length, never on where the buffers differ.
    public static func equals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        if a.count == 0 { return true }
        return sodium_memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
    }

    /// Constant-time equality of two byte arrays.
    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in equals(pa, pb) } }
    }
}
