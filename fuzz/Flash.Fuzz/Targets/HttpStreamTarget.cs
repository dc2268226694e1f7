using System.Text;
using Flash.Http;

namespace Flash.Fuzz.Targets;

/// <summary>
/// A connection's whole input: pipelined requests with Content-Length and chunked bodies, read the way
/// main reads it (parse a head, take its body, go on). Fed whole, then in the pieces the control bytes
/// choose, with the chunked output drained through small buffers: both must see the same requests, bodies
/// and errors, and stop at the same byte.
/// </summary>
internal static class HttpStreamTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        var splits = Splits.Take(ref input);
        byte[] data = input.ToArray();

        var whole = new ConnectionReader(data, outputRoom: _ => data.Length + 1);
        whole.Arrive(data.Length);

        var split = new ConnectionReader(data, splits.Room);
        foreach (int end in splits.Ends(data.Length))
        {
            split.Arrive(end);
        }

        InvariantException.Check(whole.Transcript() == split.Transcript(), "a split stream reads differently from the whole one");
    }

    private enum Phase
    {
        Head,
        Body,
        Chunked,
        Closed,
    }

    /// <summary>One connection's reading side; the transcript is everything it decided, in order.</summary>
    private sealed class ConnectionReader(byte[] data, Func<int, int> outputRoom)
    {
        private readonly RequestHead _head = new();
        private readonly StringBuilder _log = new();
        private readonly MemoryStream _body = new();
        private ChunkedDecoder _decoder; // Mutable struct: used in place, never copied.
        private Phase _phase;
        private int _start;
        private int _available;
        private long _bodyLeft;
        private int _calls;

        public void Arrive(int available)
        {
            _available = available;
            while (Step())
            {
            }
        }

        public string Transcript() =>
            _log.ToString() + $"end: {_phase} at {_start}, body so far {Convert.ToHexString(_body.ToArray())}";

        /// <summary>One decision; false when it needs more bytes or the connection is closed.</summary>
        private bool Step()
        {
            var rest = data.AsSpan(_start, _available - _start);
            switch (_phase)
            {
                case Phase.Head:
                    if (HttpParser.Parse(rest, _head, HttpLimits.Default) == ParseStatus.Incomplete)
                    {
                        return false;
                    }

                    _log.Append(HeadView.Of(_head, rest));
                    if (_head.Status == ParseStatus.Error)
                    {
                        _phase = Phase.Closed;
                        return false;
                    }

                    _start += _head.HeadLength;
                    _phase = _head.Chunked ? Phase.Chunked : _head.ContentLength > 0 ? Phase.Body : Phase.Head;
                    _bodyLeft = _head.ContentLength;
                    _decoder = new ChunkedDecoder(64, 256);
                    _head.Reset();
                    return true;

                case Phase.Body:
                    int take = (int)Math.Min(_bodyLeft, rest.Length);
                    _body.Write(rest[..take]);
                    _start += take;
                    _bodyLeft -= take;
                    return _bodyLeft == 0 ? EndBody("body") : false;

                case Phase.Chunked:
                    var output = new byte[outputRoom(_calls++)];
                    var status = _decoder.Decode(rest, output, out int consumed, out int written);
                    InvariantException.Check(consumed <= rest.Length && written <= output.Length, "decoder counts");
                    _body.Write(output, 0, written);
                    _start += consumed;
                    if (status == ChunkedStatus.Error)
                    {
                        _log.Append("chunked error: ").Append(_decoder.ErrorReason).Append('\n');
                        _phase = Phase.Closed;
                        return false;
                    }

                    InvariantException.Check(status == ChunkedStatus.Done || consumed > 0 || written > 0 || rest.IsEmpty,
                        "the decoder made no progress with input and output room");
                    return status == ChunkedStatus.Done ? EndBody("chunked body") : !rest.IsEmpty;

                default:
                    return false;
            }
        }

        private bool EndBody(string what)
        {
            _log.Append(what).Append(": ").Append(Convert.ToHexString(_body.ToArray())).Append('\n');
            _body.SetLength(0);
            _phase = Phase.Head;
            return true;
        }
    }
}
