import Foundation
import Testing

@testable import PlazoModel

/// specs/events.md is the contract agencies build against: it must list exactly the codes the
/// code accepts, with the same labels and meanings.
@Suite("specs/events.md agrees with the code")
struct SpecificationTests {
    @Test("every code list of the vocabulary appears verbatim in specs/events.md")
    func codeListsMatch() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("specs/events.md")
        let spec = try String(contentsOf: url, encoding: .utf8)
        for list in VocabularyCatalogue.lists {
            #expect(spec.contains(VocabularyCatalogue.markdown(list)), "table for \(list.attribute) differs from the code")
        }
        // And no row in the spec names a code the code does not have.
        let specRows = spec.split(separator: "\n").filter { line in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            return line.hasPrefix("| ") && cells.count >= 2 && Int(cells[0]) != nil && cells[1].hasPrefix("`")
        }
        let codeRows = VocabularyCatalogue.lists.reduce(0) { $0 + $1.rows.count }
        #expect(specRows.count == codeRows)
    }
}
