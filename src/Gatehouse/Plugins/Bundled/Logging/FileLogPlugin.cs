using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Plugins.Bundled.Logging;

/// <summary>Kong's file-log (priority 9): one serialized JSON line per request appended to <c>path</c>,
/// written by a background queue. <c>reopen = false</c> (default) keeps the file open, as Kong keeps its descriptor, so
/// after a rename (log rotation) lines keep going to the renamed file; <c>reopen = true</c> opens the path for every
/// write, so a rotated file is followed by a new one at <c>path</c>.</summary>
public sealed class FileLogPlugin : GatehousePlugin
{
    public override string Name => "file-log";
    public override int Priority => 9;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        PluginFields.String("path", required: true) with
        {
            Match = PatternRule.Of(@"^[^*&%%\`]+$", "not a valid filename"),
        },
        PluginFields.Bool("reopen", false),
    ];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context)
    {
        var path = ConfigRead.String(config, "path")!;
        var reopen = ConfigRead.Bool(config, "reopen");
        // One queue per path and mode: a queue's writer is fixed when the queue is created.
        var sink = context.Services.LogSinks.For($"file:{path}|reopen={reopen}", 100, TimeSpan.FromMilliseconds(50), 10000,
            () => reopen ? new ReopeningLogFile(path) : new KeptLogFile(path));
        return new Handler(sink);
    }

    private sealed class Handler(LogSinks.Sink sink) : PluginHandler
    {
        public override ValueTask LogAsync(Kong kong)
        {
            sink.Enqueue(LogSerializer.Serialize(kong).ToJsonString());
            return ValueTask.CompletedTask;
        }
    }

    private static byte[] Lines(IReadOnlyList<string> batch)
    {
        var text = new StringBuilder();
        foreach (var line in batch) text.Append(line).Append('\n');
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary><c>reopen = true</c>: open, append, close on every batch.</summary>
    private sealed class ReopeningLogFile(string path) : ILogWriter
    {
        public async Task WriteAsync(IReadOnlyList<string> batch, CancellationToken cancel)
        {
            await using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            await file.WriteAsync(Lines(batch), cancel);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary><c>reopen = false</c>: the file opened once and kept (reopened only after a failed write).</summary>
    private sealed class KeptLogFile(string path) : ILogWriter
    {
        private FileStream? _file;

        public async Task WriteAsync(IReadOnlyList<string> batch, CancellationToken cancel)
        {
            _file ??= new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            try
            {
                _file.Seek(0, SeekOrigin.End); // append even if another writer added to the file (O_APPEND's effect)
                await _file.WriteAsync(Lines(batch), cancel);
                await _file.FlushAsync(cancel);
            }
            catch
            {
                await DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_file is { } file) await file.DisposeAsync();
            _file = null;
        }
    }
}
