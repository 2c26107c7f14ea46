import ArgumentParser
import Foundation
import PlazoModel

/// `plazo vocabulary`: prints the event vocabulary v1 code lists.
struct VocabularyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vocabulary",
        abstract: "Print the event vocabulary's code lists (numbers, labels, meanings)."
    )

    @Argument(help: "Only this attribute (for example offence_category).")
    var attribute: String?

    @Flag(name: .long, help: "Print Markdown tables.")
    var markdown = false

    func run() throws {
        let lists = VocabularyCatalogue.lists.filter { attribute == nil || $0.attribute == attribute }
        if lists.isEmpty {
            throw ValidationError("no attribute '\(attribute ?? "")'; attributes: \(VocabularyCatalogue.lists.map(\.attribute).joined(separator: ", "))")
        }
        for list in lists {
            print(markdown ? "### `\(list.attribute)`\n" : "\(list.attribute):")
            if markdown {
                print(VocabularyCatalogue.markdown(list))
            } else {
                for row in list.rows { print("  \(String(row.code).padding(toLength: 3, withPad: " ", startingAt: 0)) \(row.label.padding(toLength: 26, withPad: " ", startingAt: 0)) \(row.meaning)") }
            }
        }
    }
}
