using System.Buffers.Binary;
using System.Text;

namespace Apptork.Root.Tests.Platform.Observability;

/// <summary>
/// Reads protobuf's wire format by field number, enough to decode what the OTLP exporter sends: the OTLP .proto
/// classes are not a package served here, and reading the bytes by hand checks the real encoding rather than a model.
/// </summary>
public sealed class ProtobufMessage
{
    private readonly List<(int Field, ulong Number, ReadOnlyMemory<byte> Bytes)> fields = [];

    public ProtobufMessage(ReadOnlyMemory<byte> message)
    {
        var span = message.Span;
        var position = 0;
        while (position < span.Length)
        {
            var key = ReadVarint(span, ref position);
            var field = (int)(key >> 3);
            switch (key & 7)
            {
                case 0:
                    fields.Add((field, ReadVarint(span, ref position), default));
                    break;
                case 1:
                    fields.Add((field, BinaryPrimitives.ReadUInt64LittleEndian(span[position..]), default));
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(span, ref position);
                    fields.Add((field, 0, message.Slice(position, length)));
                    position += length;
                    break;
                case 5:
                    fields.Add((field, BinaryPrimitives.ReadUInt32LittleEndian(span[position..]), default));
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Wire type {key & 7} of field {field} is not protobuf's.");
            }
        }
    }

    public IEnumerable<ProtobufMessage> Messages(int field) => fields.Where(item => item.Field == field).Select(item => new ProtobufMessage(item.Bytes));

    public ProtobufMessage? Message(int field) => Messages(field).FirstOrDefault();

    public byte[] Bytes(int field) => fields.Where(item => item.Field == field).Select(item => item.Bytes.ToArray()).FirstOrDefault() ?? [];

    public string? Text(int field) => fields.Where(item => item.Field == field).Select(item => Encoding.UTF8.GetString(item.Bytes.Span)).FirstOrDefault();

    /// <summary>A varint, fixed64 or fixed32 field's raw value (0 when absent, as protobuf reads a missing scalar).</summary>
    public ulong Number(int field) => fields.Where(item => item.Field == field).Select(item => item.Number).FirstOrDefault();

    public bool Has(int field) => fields.Any(item => item.Field == field);

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var next = span[position++];
            value |= (ulong)(next & 0x7F) << shift;
            if (next < 0x80)
            {
                return value;
            }
        }
    }
}
