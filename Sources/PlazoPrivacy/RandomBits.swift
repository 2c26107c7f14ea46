import PlazoRandom
import PlazoSodium

/// Where the raw bits come from. Internal on purpose: outside this module the only way to obtain
/// randomness for noise is ``RandomBits/secure()`` (libsodium's CSPRNG). The seeded generator
/// used by tests is behind `@_spi(Testing)` and is not reachable from any CLI or server option.
protocol EntropySource {
    /// Fills `buffer` completely with random bytes.
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer)
}

/// libsodium's CSPRNG (`randombytes_buf`, ChaCha20-based) through ``PlazoSodium/SecureRandom``.
struct LibsodiumEntropy: EntropySource {
    /// Only constructible once libsodium is known to be initialised, which is the only way
    /// ``SecureRandom/fill(_:)`` can fail; that makes the `catch` in ``fill(_:)`` unreachable.
    init() throws(PrivacyError) {
        do { try Sodium.ensureInitialised() } catch { throw .randomnessUnavailable(error.description) }
    }

    func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        do { try SecureRandom.fill(buffer) } catch {
            // Unreachable: `init` checked initialisation, and sodium_init's result is cached.
            preconditionFailure("libsodium failed after successful initialisation: \(error)")
        }
    }
}

/// xoshiro256** seeded through SplitMix64 (``Xoshiro256`` from `PlazoRandom`): fast and
/// statistically strong, **not** cryptographic. For reproducible tests only.
struct SeededTestingEntropy: EntropySource {
    private var generator: Xoshiro256

    init(seed: UInt64) { generator = Xoshiro256(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var offset = 0
        while offset < buffer.count {
            var word = next()
            let n = min(8, buffer.count - offset)
            withUnsafeBytes(of: &word) { buffer.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: n) }
            offset += n
        }
    }
}

/// A buffered stream of uniformly random bits and the exact integer primitives built on it:
/// unbiased uniform integers (Lemire's multiply-and-reject, with the rejection that makes it
/// exact) and Bernoulli trials with rational probability.
///
/// The stream refills an 8 KiB buffer from its source, so libsodium's per-call overhead is paid
/// once per 2,048 32-bit draws. The buffer is zeroed when the stream is released.
///
/// `RandomBits` is non-copyable: a copy would replay the same random bits, and correlated noise
/// breaks differential privacy. Pass it `inout`. It is not shared between tasks; make one per task.
public struct RandomBits: ~Copyable {
    static let wordCount = 2048  // 32-bit words: 8 KiB per refill
    private var source: any EntropySource
    private let buffer: UnsafeMutablePointer<UInt32>
    private var index: Int
    private var bitCache: UInt64 = 0
    private var bitsLeft: Int = 0

    init(source: any EntropySource) {
        self.source = source
        buffer = .allocate(capacity: Self.wordCount)
        buffer.initialize(repeating: 0, count: Self.wordCount)
        index = Self.wordCount  // first draw refills
    }

    deinit {
        buffer.update(repeating: 0, count: Self.wordCount)
        buffer.deallocate()
    }

    /// The production stream: libsodium's CSPRNG. Throws if libsodium cannot be initialised.
    public static func secure() throws(PrivacyError) -> RandomBits {
        RandomBits(source: try LibsodiumEntropy())
    }

    /// A deterministic, **non-cryptographic** stream for reproducible tests. Never use it for a
    /// release: noise from a known seed protects nothing. Reachable only with
    /// `@_spi(Testing) import PlazoPrivacy`.
    @_spi(Testing)
    public static func seededForTesting(_ seed: UInt64) -> RandomBits {
        RandomBits(source: SeededTestingEntropy(seed: seed))
    }

    @inline(never)
    private mutating func refill() {
        source.fill(UnsafeMutableRawBufferPointer(start: buffer, count: Self.wordCount * 4))
        index = 0
    }

    /// 32 uniformly random bits.
    @inline(__always)
    public mutating func next32() -> UInt32 {
        if index == Self.wordCount { refill() }
        let w = buffer[index]
        index &+= 1
        return w
    }

    /// 64 uniformly random bits.
    @inline(__always)
    public mutating func next64() -> UInt64 {
        UInt64(next32()) << 32 | UInt64(next32())
    }

    /// One uniformly random bit (taken from a 64-bit cache, so a coin costs 1 bit, not 32).
    @inline(__always)
    public mutating func nextBit() -> Bool {
        if bitsLeft == 0 {
            bitCache = next64()
            bitsLeft = 64
        }
        let b = bitCache & 1 == 1
        bitCache >>= 1
        bitsLeft &-= 1
        return b
    }

    /// A uniform integer in `0..<n` for `1 ≤ n ≤ 2^32`, exactly unbiased.
    ///
    /// Lemire (2019), "Fast random integer generation in an interval": `x·n / 2^32` for a 32-bit
    /// `x` is uniform on `0..<n` once the `2^32 mod n` low values that would over-represent some
    /// results are rejected. The modulo (one division) is computed only in the rare case
    /// `low < n`, so the common path has no division.
    @inline(__always)
    mutating func uniform32(below n: UInt64) -> UInt64 {
        var m = UInt64(next32()) &* n
        var low = m & 0xFFFF_FFFF
        if low < n {
            let threshold = (UInt64(1) << 32 &- n) % n  // 2^32 mod n
            while low < threshold {
                m = UInt64(next32()) &* n
                low = m & 0xFFFF_FFFF
            }
        }
        return m >> 32
    }

    /// A uniform integer in `0..<n` for any `n ≥ 1`, exactly unbiased (64-bit Lemire for `n > 2^32`).
    /// Internal: callers outside the module use the validated samplers, which never pass 0.
    @inline(__always)
    mutating func uniform(below n: UInt64) -> UInt64 {
        precondition(n > 0)
        if n <= 1 << 32 { return uniform32(below: n) }
        var m = UInt128(next64()) &* UInt128(n)
        var low = UInt64(truncatingIfNeeded: m)
        if low < n {
            let threshold = (0 &- n) % n  // 2^64 mod n
            while low < threshold {
                m = UInt128(next64()) &* UInt128(n)
                low = UInt64(truncatingIfNeeded: m)
            }
        }
        return UInt64(truncatingIfNeeded: m >> 64)
    }

    /// A uniform integer in `0..<n` for a 128-bit `n ≥ 1`, by masked rejection (exact; fewer than
    /// two rounds on average). Used only when a denominator outgrows 64 bits.
    mutating func uniform(below n: UInt128) -> UInt128 {
        precondition(n > 0)
        if n <= UInt128(UInt64.max) { return UInt128(uniform(below: UInt64(n))) }
        let mask = UInt128.max >> (n - 1).leadingZeroBitCount
        while true {
            let x = (UInt128(next64()) << 64 | UInt128(next64())) & mask
            if x < n { return x }
        }
    }

    /// True with probability exactly `numerator / denominator` (`0 ≤ numerator ≤ denominator`, `denominator ≥ 1`).
    @inline(__always)
    mutating func bernoulli(_ numerator: UInt64, over denominator: UInt64) -> Bool {
        uniform(below: denominator) < numerator
    }

    /// Bernoulli with a 128-bit rational probability.
    mutating func bernoulli(_ numerator: UInt128, over denominator: UInt128) -> Bool {
        if denominator <= UInt128(UInt64.max) { return uniform(below: UInt64(denominator)) < UInt64(numerator) }
        return uniform(below: denominator) < numerator
    }
}
