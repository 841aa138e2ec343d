import CZlib
import Foundation

/// gzip decompression through the system zlib.
public enum Gzip {
    /// Whether `data` starts with the gzip magic bytes.
    public static func isCompressed(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    /// The decompressed bytes of a gzip stream; throws on corrupt or truncated input.
    public static func decompress(_ data: Data, path: String) throws(DataError) -> Data {
        var stream = z_stream()
        guard inflateInit2_(&stream, 16 + MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .malformed(path: path, reason: "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        var output = Data()
        var status: Int32 = Z_OK
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(input.count)
            repeat {
                buffer.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(chunk)
                    status = inflate(&stream, Z_NO_FLUSH)
                    output.append(out.baseAddress!, count: chunk - Int(stream.avail_out))
                }
            } while status == Z_OK
        }
        guard status == Z_STREAM_END else {
            throw .malformed(
                path: path, reason: status == Z_BUF_ERROR ? "gzip stream is truncated" : "gzip stream is corrupt (zlib status \(status))")
        }
        return output
    }
}
