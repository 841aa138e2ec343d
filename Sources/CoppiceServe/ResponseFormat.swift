import CoppiceLLM
import Foundation

/// OpenAI's `response_format`: `text` (free), `json_object` (any JSON object) or `json_schema`
/// (`{"json_schema": {"name": …, "schema": {…}}}`), the last two by constrained decoding — every
/// sampled token keeps the reply a prefix of the grammar's language (`JSONGrammar`).
struct ResponseFormat: Decodable {
    var type: String

    /// The grammar the reply is held to; nil for text. `body` is the request's JSON, read again in
    /// order for the schema, whose property order the reply keeps.
    func grammar(body: Data) throws(ServeError) -> ByteGrammar? {
        switch type {
        case "text": return nil
        case "json_object": return JSONGrammar.object()
        case "json_schema":
            let request: OrderedJSON
            do { request = try OrderedJSON(parsing: String(decoding: body, as: UTF8.self)) } catch {
                throw .badRequest("the body is not JSON: \(error)")
            }
            guard let schema = request["response_format"]?["json_schema"]?["schema"] else {
                throw .badRequest("response_format json_schema needs {\"json_schema\": {\"name\": …, \"schema\": {…}}}")
            }
            do { return try JSONGrammar.schema(schema) } catch { throw .badRequest("response_format's schema: \(error)") }
        default: throw .badRequest("response_format type must be text, json_object or json_schema, got '\(type)'")
        }
    }
}
