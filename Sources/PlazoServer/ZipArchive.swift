import Foundation

/// A minimal ZIP writer (stored entries, no compression, no ZIP64): enough to serve a Data Package
/// as one `.zip` that the frictionless tools open directly (`Package("release.zip")`), with
/// `datapackage.json` at the archive's root as the Data Package spec asks of zipped packages.
enum ZipArchive {
    /// The archive of `files`, each stamped with `modified` (UTC, DOS precision: 2 s).
    static func archive(_ files: [(path: String, bytes: [UInt8])], modified: Date) -> [UInt8] {
        let (time, date) = dosTimestamp(modified)
        var out: [UInt8] = []
        var central: [UInt8] = []
        for file in files {
            let name = Array(file.path.utf8)
            let crc = crc32(file.bytes)
            let offset = UInt32(out.count)
            // Local file header.
            out.le32(0x0403_4B50)
            out.le16(20)  // version needed: 2.0
            out.le16(0x0800)  // names are UTF-8
            out.le16(0)  // stored
            out.le16(time)
            out.le16(date)
            out.le32(crc)
            out.le32(UInt32(file.bytes.count))
            out.le32(UInt32(file.bytes.count))
            out.le16(UInt16(name.count))
            out.le16(0)
            out += name
            out += file.bytes
            // Central directory entry.
            central.le32(0x0201_4B50)
            central.le16(0x0314)  // made by: Unix, 2.0
            central.le16(20)
            central.le16(0x0800)
            central.le16(0)
            central.le16(time)
            central.le16(date)
            central.le32(crc)
            central.le32(UInt32(file.bytes.count))
            central.le32(UInt32(file.bytes.count))
            central.le16(UInt16(name.count))
            central.le16(0)  // extra
            central.le16(0)  // comment
            central.le16(0)  // disk
            central.le16(0)  // internal attributes
            central.le32(UInt32(0o100644) << 16)  // regular file, rw-r--r--
            central.le32(offset)
            central += name
        }
        let centralOffset = UInt32(out.count)
        out += central
        out.le32(0x0605_4B50)
        out.le16(0)
        out.le16(0)
        out.le16(UInt16(files.count))
        out.le16(UInt16(files.count))
        out.le32(UInt32(central.count))
        out.le32(centralOffset)
        out.le16(0)
        return out
    }

    static func dosTimestamp(_ date: Date) -> (time: UInt16, date: UInt16) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let year = max(1980, min(2107, c.year ?? 1980))
        let time = UInt16((c.hour ?? 0) << 11 | (c.minute ?? 0) << 5 | (c.second ?? 0) / 2)
        let day = UInt16((year - 1980) << 9 | (c.month ?? 1) << 5 | (c.day ?? 1))
        return (time, day)
    }

    static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 (ISO 3309, as ZIP uses).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

extension [UInt8] {
    fileprivate mutating func le16(_ v: UInt16) { append(UInt8(v & 0xFF)); append(UInt8(v >> 8)) }
    fileprivate mutating func le32(_ v: UInt32) { for i in 0..<4 { append(UInt8((v >> (8 * UInt32(i))) & 0xFF)) } }
}
