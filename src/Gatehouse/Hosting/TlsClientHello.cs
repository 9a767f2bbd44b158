using System.Buffers;
using System.Buffers.Binary;

namespace Gatehouse.Hosting;

/// <summary>The ECDSA curves whose signatures a client can verify (as far as the certificate choice needs to know).</summary>
[Flags]
internal enum EcdsaCurves : byte
{
    None = 0,
    P256 = 1,
    P384 = 2,
    P521 = 4,
    All = P256 | P384 | P521,
}

/// <summary>
/// What the certificate choice needs from a client's TLS ClientHello, read from the connection's first bytes before
/// the handshake: the versions offered (<c>supported_versions</c>), the TLS 1.2 cipher suites, and the signature
/// schemes (<c>signature_algorithms</c>). Only a hello carried whole in the first TLS record is read; anything else
/// (fragmented, malformed, not TLS) is <see cref="Result.Unknown"/>, and the caller falls back to the RSA certificate.
/// </summary>
internal static class TlsClientHello
{
    internal enum Result { Parsed, NeedMore, Unknown }

    /// <summary>A TLS record carries at most 2^14 bytes of plaintext (RFC 8446 §5.1).</summary>
    private const int MaxRecord = 16384;
    private const byte Handshake = 22;
    private const byte ClientHelloType = 1;
    private const ushort SignatureAlgorithmsExtension = 13, SupportedVersionsExtension = 43;

    /// <summary>Looks at the start of <paramref name="input"/> without consuming it.</summary>
    /// <param name="ecdsaSuite">true for a TLS 1.2 cipher suite that authenticates with ECDSA (and that the listener accepts)</param>
    /// <param name="tls13">whether the listener negotiates TLS 1.3</param>
    /// <param name="accepted">the ECDSA curves the client can verify in the version that will be negotiated</param>
    public static Result Examine(ReadOnlySequence<byte> input, Func<ushort, bool> ecdsaSuite, bool tls13, out EcdsaCurves accepted)
    {
        accepted = EcdsaCurves.None;
        if (input.Length < 5) return input.IsEmpty || input.FirstSpan[0] == Handshake ? Result.NeedMore : Result.Unknown;
        Span<byte> header = stackalloc byte[5];
        input.Slice(0, 5).CopyTo(header);
        if (header[0] != Handshake || header[1] != 3) return Result.Unknown;
        int recordLength = BinaryPrimitives.ReadUInt16BigEndian(header[3..]);
        if (recordLength is 0 or > MaxRecord) return Result.Unknown;
        if (input.Length < 5 + recordLength) return Result.NeedMore;
        var record = input.Slice(5, recordLength);
        if (record.IsSingleSegment) return Parse(record.FirstSpan, ecdsaSuite, tls13, out accepted);
        var copy = ArrayPool<byte>.Shared.Rent(recordLength);
        try
        {
            record.CopyTo(copy);
            return Parse(copy.AsSpan(0, recordLength), ecdsaSuite, tls13, out accepted);
        }
        finally { ArrayPool<byte>.Shared.Return(copy); }
    }

    private static Result Parse(ReadOnlySpan<byte> record, Func<ushort, bool> ecdsaSuite, bool tls13, out EcdsaCurves accepted)
    {
        accepted = EcdsaCurves.None;
        var reader = new SpanReader(record);
        if (!reader.Byte(out var type) || type != ClientHelloType || !reader.UInt24(out var length)) return Result.Unknown;
        // a hello longer than its record continues in the next one: not read (the RSA certificate is served)
        if (length != reader.Remaining) return Result.Unknown;
        if (!reader.Skip(2 + 32) // legacy_version, random
            || !reader.Vector8(out _) // legacy_session_id
            || !reader.Vector16(out var suites) || suites.Length % 2 != 0
            || !reader.Vector8(out _)) // legacy_compression_methods
            return Result.Unknown;
        var offersTls13 = false;
        var sigalgsPresent = false;
        var tls13Curves = EcdsaCurves.None;
        var anyEcdsaSigalg = false;
        if (reader.Remaining > 0)
        {
            if (!reader.Vector16(out var extensions) || reader.Remaining != 0) return Result.Unknown;
            var list = new SpanReader(extensions);
            while (list.Remaining > 0)
            {
                if (!list.UInt16(out var extension) || !list.Vector16(out var data)) return Result.Unknown;
                var body = new SpanReader(data);
                switch (extension)
                {
                    case SupportedVersionsExtension:
                        if (!body.Vector8(out var versions) || versions.Length % 2 != 0) return Result.Unknown;
                        for (var i = 0; i < versions.Length; i += 2)
                            offersTls13 |= BinaryPrimitives.ReadUInt16BigEndian(versions[i..]) == 0x0304;
                        break;
                    case SignatureAlgorithmsExtension:
                        if (!body.Vector16(out var schemes) || schemes.Length % 2 != 0) return Result.Unknown;
                        sigalgsPresent = true;
                        for (var i = 0; i < schemes.Length; i += 2)
                        {
                            var scheme = BinaryPrimitives.ReadUInt16BigEndian(schemes[i..]);
                            // TLS 1.2 reads the low byte as the signature (3 = ecdsa, any hash); TLS 1.3 binds the curve
                            anyEcdsaSigalg |= (scheme & 0xFF) == 3;
                            tls13Curves |= scheme switch
                            {
                                0x0403 => EcdsaCurves.P256,
                                0x0503 => EcdsaCurves.P384,
                                0x0603 => EcdsaCurves.P521,
                                _ => EcdsaCurves.None,
                            };
                        }
                        break;
                }
            }
        }
        if (offersTls13 && tls13)
        {
            accepted = tls13Curves;
            return Result.Parsed;
        }
        // TLS 1.2: ECDSA when an ECDHE-ECDSA suite is offered and the signature schemes (when sent) allow ECDSA
        var offersEcdsaSuite = false;
        for (var i = 0; i < suites.Length && !offersEcdsaSuite; i += 2)
            offersEcdsaSuite = ecdsaSuite(BinaryPrimitives.ReadUInt16BigEndian(suites[i..]));
        accepted = offersEcdsaSuite && (!sigalgsPresent || anyEcdsaSigalg) ? EcdsaCurves.All : EcdsaCurves.None;
        return Result.Parsed;
    }

    /// <summary>Bounds-checked reads over a span: every read says whether the bytes were there.</summary>
    private ref struct SpanReader(ReadOnlySpan<byte> span)
    {
        private ReadOnlySpan<byte> _rest = span;

        public readonly int Remaining => _rest.Length;

        public bool Byte(out byte value)
        {
            value = 0;
            if (_rest.Length < 1) return false;
            value = _rest[0];
            _rest = _rest[1..];
            return true;
        }

        public bool UInt16(out ushort value)
        {
            value = 0;
            if (_rest.Length < 2) return false;
            value = BinaryPrimitives.ReadUInt16BigEndian(_rest);
            _rest = _rest[2..];
            return true;
        }

        public bool UInt24(out int value)
        {
            value = 0;
            if (_rest.Length < 3) return false;
            value = (_rest[0] << 16) | (_rest[1] << 8) | _rest[2];
            _rest = _rest[3..];
            return true;
        }

        public bool Skip(int count)
        {
            if (_rest.Length < count) return false;
            _rest = _rest[count..];
            return true;
        }

        public bool Vector8(out ReadOnlySpan<byte> value)
        {
            value = default;
            if (!Byte(out var length) || _rest.Length < length) return false;
            value = _rest[..length];
            _rest = _rest[length..];
            return true;
        }

        public bool Vector16(out ReadOnlySpan<byte> value)
        {
            value = default;
            if (!UInt16(out var length) || _rest.Length < length) return false;
            value = _rest[..length];
            _rest = _rest[length..];
            return true;
        }
    }
}
