using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Entities;

namespace Gatehouse.Plugins.Bundled.Logging;

/// <summary>Kong's file-log (priority 9): one serialized JSON line per request appended to <c>path</c>,
/// written by a background queue.</summary>
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
        var sink = context.Services.LogSinks.For("file:" + path, 100, TimeSpan.FromMilliseconds(50), 10000, async (batch, ct) =>
        {
            var text = new StringBuilder();
            foreach (var line in batch) text.Append(line).Append('\n');
            await File.AppendAllTextAsync(path, text.ToString(), ct);
        });
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
}
