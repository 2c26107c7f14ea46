import PlazoRandom
import Testing

/// The sequences are pinned: releases store the seed of their interval simulations and replay them,
/// so a change to either generator would silently change stored releases' intervals.
@Suite struct SeededGeneratorTests {
    @Test func splitMix64MatchesTheReferenceSequence() {
        // Seed 0: the first output of Vigna's reference splitmix64.c.
        var a = SplitMix64(seed: 0)
        #expect([a.next(), a.next(), a.next()] == [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
        var b = SplitMix64(seed: 1_234_567)
        #expect([b.next(), b.next(), b.next()] == [0x599E_D017_FB08_FC85, 0x2C73_F084_5854_0FA5, 0x883E_BCE5_A3F2_7C77])
    }

    @Test func xoshiro256MatchesTheSequenceStoredReleasesReplay() {
        var a = Xoshiro256(seed: 5)
        #expect((0..<4).map { _ in a.next() } == [0x49D5_5178_CA54_CF69, 0x9A22_115A_4D26_24DC, 0xA648_B1CC_F0BB_BBAE, 0xD251_1E20_DE93_3BC5])
        var b = Xoshiro256(seed: 2026)
        #expect((0..<4).map { _ in b.next() } == [0x92E0_1159_2E98_AE15, 0x489F_3794_6D6D_18D8, 0xD000_9E27_9D9C_DEDA, 0xE4C7_DCA7_86D5_6702])
    }

    @Test func unitIsInTheHalfOpenUnitIntervalAndReplays() {
        var a = Xoshiro256(seed: 9), b = Xoshiro256(seed: 9)
        for _ in 0..<10_000 {
            let u = a.unit()
            #expect(u >= 0 && u < 1)
            #expect(u == b.unit())
        }
        var s = SplitMix64(seed: 9)
        #expect((0..<1000).allSatisfy { _ in (0..<1).contains(s.unit()) })
    }

    @Test func worksWithTheStandardLibrarysRandomAPIs() {
        var a = Xoshiro256(seed: 1), b = Xoshiro256(seed: 1)
        #expect(Int.random(in: 0..<1000, using: &a) == Int.random(in: 0..<1000, using: &b))
        var c = SplitMix64(seed: 1), d = SplitMix64(seed: 1)
        #expect([1, 2, 3, 4, 5].shuffled(using: &c) == [1, 2, 3, 4, 5].shuffled(using: &d))
    }
}
