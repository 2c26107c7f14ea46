/// Seeded, deterministic, **non-cryptographic** random number generators.
///
/// They exist so that simulations, synthetic data and tests replay exactly from a 64-bit seed.
/// They never protect anything: keys, nonces and differential-privacy noise come from libsodium's
/// CSPRNG (`PlazoSodium`, `PlazoPrivacy`), never from this module. Their output sequences are part
/// of Plazo's stored results (a release records the seed of its interval simulations), so they must
/// never change; `PlazoRandomTests` pins them.

/// SplitMix64 (Steele, Lea & Flood; Vigna's constants): a 64-bit counter passed through a
/// bijective mixer. Used on its own in tests, and to seed ``Xoshiro256``.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The counter; each call adds the golden-ratio increment first.
    public var state: UInt64

    /// A generator whose first output mixes `seed + 0x9E3779B97F4A7C15`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 uniformly distributed bits.
    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), with 53 random bits.
    @inlinable
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

/// xoshiro256** (Blackman & Vigna), its 256-bit state filled by four outputs of ``SplitMix64``
/// started at the seed: fast and statistically strong for simulations and synthetic data.
///
/// The generator of the releases' interval simulations: each release stores the seed it used, so
/// this sequence must stay exactly as it is.
public struct Xoshiro256: RandomNumberGenerator, Sendable {
    @usableFromInline var s0: UInt64
    @usableFromInline var s1: UInt64
    @usableFromInline var s2: UInt64
    @usableFromInline var s3: UInt64

    /// The generator for `seed`.
    public init(seed: UInt64) {
        var seeder = SplitMix64(seed: seed)
        s0 = seeder.next()
        s1 = seeder.next()
        s2 = seeder.next()
        s3 = seeder.next()
    }

    /// The next 64 uniformly distributed bits.
    @inlinable @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1), with 53 random bits.
    @inlinable
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}
