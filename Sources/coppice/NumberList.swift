/// The numbers of a comma-separated option value ("0.3,0.5, 0.7"); nil when an entry is not a number.
func numberList(_ text: String) -> [Double]? {
    let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    return values.contains(nil) ? nil : values.map { $0! }
}
