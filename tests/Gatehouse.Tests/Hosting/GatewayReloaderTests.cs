using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Store;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Hosting;

/// <summary>What a reload applies in a running node, and that it names what it does not apply.</summary>
public sealed class GatewayReloaderTests
{
    [Fact]
    public async Task Reload_applies_the_declarative_file_and_names_keys_that_need_a_restart()
    {
        using var dir = new TempDir();
        var yml = dir.File("kong.yml");
        await File.WriteAllTextAsync(yml, "_format_version: \"3.0\"\nservices:\n- name: one\n  url: http://127.0.0.1:9\n");
        var logs = new LogCapture();
        GatehouseOptions Conf(string extra) => GatehouseConfLoader.LoadText(
            $"prefix = {dir.Path}\ndatabase = off\ndeclarative_config = {yml}\nproxy_listen = 127.0.0.1:0\nadmin_listen = off\n{extra}",
            new Dictionary<string, string?>()).Options!;
        await using var host = GatewayHost.Create(Conf("log_level = warn"), new GatewayHostOptions { ConfigureLogging = logs.Install });
        await host.StartAsync();
        Assert.Equal(["one"], host.Publisher.Current.Services.Select(s => s.Name));

        await File.WriteAllTextAsync(yml, "_format_version: \"3.0\"\nservices:\n- name: two\n  url: http://127.0.0.1:9\n");
        Assert.True(await host.ReloadAsync(Conf("log_level = error\nheaders = off")));
        Assert.Equal(["two"], host.Publisher.Current.Services.Select(s => s.Name));
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("restart to apply: headers, log_level", StringComparison.Ordinal));

        await File.WriteAllTextAsync(yml, "_format_version: \"3.0\"\nservices:\n- name: [broken\n");
        Assert.False(await host.ReloadAsync(Conf("log_level = warn")));
        Assert.Equal(["two"], host.Publisher.Current.Services.Select(s => s.Name));
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("refused, the running configuration is kept", StringComparison.Ordinal));
    }
}
