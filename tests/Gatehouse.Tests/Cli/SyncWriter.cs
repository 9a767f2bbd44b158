using System.Text;

namespace Gatehouse.Tests.Cli;

/// <summary>A thread-safe StringWriter: the CLI's start command writes from other threads while tests read.</summary>
internal sealed class SyncWriter : TextWriter
{
    private readonly StringBuilder _text = new();
    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_text) _text.Append(value);
    }

    public override void Write(string? value)
    {
        lock (_text) _text.Append(value);
    }

    public override string ToString()
    {
        lock (_text) return _text.ToString();
    }
}
