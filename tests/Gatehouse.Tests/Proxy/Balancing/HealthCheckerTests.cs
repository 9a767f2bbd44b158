using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Proxy.Balancing;
using Gatehouse.Proxy.Balancing.Health;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Plugins;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Proxy.Balancing;

public sealed class HealthCheckerTests : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly ManualTime _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly LogCapture _logs = new();
    private readonly ILoggerFactory _loggerFactory;
    private readonly List<HealthChecker> _checkers = [];
    private readonly List<ProbeTarget> _targets = [];
    private readonly List<PeerHealthChange> _changes = [];

    public HealthCheckerTests() => _loggerFactory = LoggerFactory.Create(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Debug));

    public async ValueTask DisposeAsync()
    {
        foreach (var checker in _checkers) checker.Dispose();
        foreach (var target in _targets) await target.DisposeAsync();
        _loggerFactory.Dispose();
    }

    private static HealthCheckSettings Active(Func<ActiveHealthCheck, ActiveHealthCheck> change) =>
        HealthCheckSettings.Default with { Active = change(ActiveHealthCheck.Default) };

    private static BalancerPeer Peer(int port, string target = "svc.test", string id = "t1") =>
        new(id, $"{target}:{port}", IPAddress.Loopback, port, 100);

    private async Task<ProbeTarget> Target(X509Certificate2? certificate = null, HangGate? gate = null)
    {
        var target = await ProbeTarget.StartAsync(certificate, gate);
        _targets.Add(target);
        return target;
    }

    private HealthChecker Checker(HealthCheckSettings settings, IEnumerable<BalancerPeer> peers, string? hostHeader = null)
    {
        var checker = new HealthChecker("backend", settings, peers, _loggerFactory.CreateLogger<HealthChecker>(), _time, hostHeader);
        checker.HealthChanged += c => { lock (_changes) _changes.Add(c); };
        _checkers.Add(checker);
        return checker;
    }

    /// <summary>One interval passes; waits until that round's probes are counted.</summary>
    private async Task Tick(HealthChecker checker)
    {
        var recorded = checker.ProbesRecorded;
        _time.Advance(Interval);
        await Eventually.TrueAsync(() => checker.ProbesRecorded > recorded, "the probe to be counted");
    }

    [Fact]
    public async Task A_target_answering_errors_turns_unhealthy_at_the_threshold_and_recovers_after_successes()
    {
        var target = await Target();
        var peer = Peer(target.Port);
        var checker = Checker(Active(a => a with
        {
            HttpPath = "/status?probe=1",
            Headers = new Dictionary<string, IReadOnlyList<string>> { ["X-Probe"] = ["a", "b"] },
            Healthy = a.Healthy with { Interval = Interval, Successes = 2 },
            Unhealthy = a.Unhealthy with { Interval = Interval, HttpFailures = 3 },
        }), [peer], hostHeader: "backend.example");

        await Tick(checker);
        Assert.True(checker.IsHealthy(peer));
        var seen = Assert.Single(target.Seen);
        Assert.Equal("/status?probe=1", seen.PathAndQuery);
        Assert.Equal("backend.example", seen.Host);
        Assert.Equal(new string?[] { "a", "b" }, seen.Headers["x-probe"]);

        target.Status = 500;
        await Tick(checker);
        await Tick(checker);
        Assert.True(checker.IsHealthy(peer)); // 2 of 3
        await Tick(checker);
        Assert.False(checker.IsHealthy(peer));

        target.Status = 200;
        await Tick(checker); // now probed on the unhealthy interval
        Assert.False(checker.IsHealthy(peer)); // 1 of 2
        await Tick(checker);
        Assert.True(checker.IsHealthy(peer));

        Assert.Equal([false, true], _changes.Select(c => c.Healthy));
        Assert.Equal("active: 3 http failures in a row", _changes[0].Reason);
        var lines = _logs.Entries.Where(e => e.Message.Contains("is now")).Select(e => e.Message).ToArray();
        Assert.Equal([$"Upstream backend target svc.test:{target.Port} address 127.0.0.1:{target.Port} is now UNHEALTHY (active: 3 http failures in a row)",
            $"Upstream backend target svc.test:{target.Port} address 127.0.0.1:{target.Port} is now HEALTHY (active: 2 successes in a row)"], lines);
    }

    [Fact]
    public async Task A_hanging_target_costs_one_probe_per_timeout_and_turns_unhealthy_on_timeouts()
    {
        var target = await Target();
        target.Behaviour = ProbeBehaviour.Hang;
        var peer = Peer(target.Port);
        var checker = Checker(Active(a => a with
        {
            Timeout = TimeSpan.FromSeconds(2),
            Healthy = a.Healthy with { Interval = Interval },
            Unhealthy = a.Unhealthy with { Timeouts = 1 },
        }), [peer]);

        _time.Advance(Interval);
        await Eventually.TrueAsync(() => target.Requests == 1, "the probe to reach the target");
        Assert.Equal(1, checker.RoundsStarted);
        _time.Advance(Interval); // the next round is due while the probe still hangs: it is skipped
        Assert.Equal(1, checker.RoundsStarted);
        Assert.True(checker.IsHealthy(peer));

        _time.Advance(Interval); // the probe's timeout
        await Eventually.TrueAsync(() => checker.ProbesRecorded == 1, "the timeout to be counted");
        Assert.False(checker.IsHealthy(peer));
        Assert.Equal(1, target.Requests);
        Assert.Equal("active: 1 timeouts in a row", Assert.Single(_changes).Reason);
    }

    [Fact]
    public async Task Closed_and_refused_connections_are_tcp_failures()
    {
        var closing = await Target();
        closing.Behaviour = ProbeBehaviour.Close;
        using var unused = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        unused.Start();
        var refusedPort = ((IPEndPoint)unused.LocalEndpoint).Port;
        unused.Stop();
        var closed = Peer(closing.Port);
        var refused = Peer(refusedPort, "gone.test", "t2");
        var checker = Checker(Active(a => a with
        {
            Healthy = a.Healthy with { Interval = Interval },
            Unhealthy = a.Unhealthy with { TcpFailures = 2, HttpFailures = 1 },
        }), [closed, refused]);

        await Tick(checker);
        await Eventually.TrueAsync(() => checker.ProbesRecorded == 2, "both probes");
        Assert.True(checker.IsHealthy(closed));
        Assert.True(checker.IsHealthy(refused));
        await Tick(checker);
        await Eventually.TrueAsync(() => checker.ProbesRecorded == 4, "both probes");
        Assert.False(checker.IsHealthy(closed));
        Assert.False(checker.IsHealthy(refused));
        Assert.All(_changes, c => Assert.Equal("active: 2 tcp failures in a row", c.Reason));
    }

    [Fact]
    public async Task Passive_reports_count_in_a_row_against_the_passive_thresholds()
    {
        var (a, b, c) = (Peer(1001), Peer(1002, id: "t2"), Peer(1003, id: "t3"));
        var checker = Checker(HealthCheckSettings.Default with
        {
            Passive = PassiveHealthCheck.Default with
            {
                Healthy = PassiveHealthCheck.Default.Healthy with { Successes = 2 },
                Unhealthy = PassiveHealthCheck.Default.Unhealthy with { HttpFailures = 2, Timeouts = 1, TcpFailures = 1 },
            },
        }, [a, b, c]);

        checker.ReportHttpStatus(a, 500);
        checker.ReportHttpStatus(a, 200); // a success breaks the run of failures
        checker.ReportHttpStatus(a, 503);
        checker.ReportHttpStatus(a, 404); // in neither passive list: ignored
        Assert.True(checker.IsHealthy(a));
        checker.ReportHttpStatus(a, 429);
        Assert.False(checker.IsHealthy(a));

        checker.ReportTimeout(b);
        checker.ReportTcpFailure(c);
        Assert.False(checker.IsHealthy(b));
        Assert.False(checker.IsHealthy(c));

        checker.ReportHttpStatus(a, 204);
        Assert.False(checker.IsHealthy(a));
        checker.ReportSuccess(a);
        Assert.True(checker.IsHealthy(a));
        Assert.Equal(["passive: 2 http failures in a row", "passive: 1 timeouts in a row", "passive: 1 tcp failures in a row",
            "passive: 2 successes in a row"], _changes.Select(x => x.Reason));
    }

    [Fact]
    public async Task Counters_at_zero_never_flip_a_peer()
    {
        var peer = Peer(1001);
        var checker = Checker(HealthCheckSettings.Default, [peer]);
        for (var i = 0; i < 300; i++)
        {
            checker.ReportHttpStatus(peer, 500);
            checker.ReportTimeout(peer);
            checker.ReportTcpFailure(peer);
        }
        Assert.True(checker.IsHealthy(peer));
        Assert.False(HealthCheckSettings.Default.Enabled);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task A_manual_override_holds_until_checks_say_otherwise_and_survives_a_new_peer_list()
    {
        var target = await Target();
        var peer = Peer(target.Port);
        var other = Peer(1002, "other.test", "t2");
        var checker = Checker(Active(a => a with
        {
            Type = HealthCheckType.Tcp,
            Healthy = a.Healthy with { Successes = 1 },
            Unhealthy = a.Unhealthy with { Interval = Interval },
        }), [peer, other]);

        Assert.True(checker.SetHealthy(peer, false));
        Assert.True(checker.SetTargetHealthy("t2", false));
        Assert.False(checker.IsHealthy(peer));
        checker.UpdatePeers([peer with { Weight = 5 }, other, Peer(1003, "new.test", "t3")]);
        Assert.False(checker.IsHealthy(peer)); // same address, port and target: health kept
        Assert.True(checker.IsHealthy(Peer(1003, "new.test", "t3")));
        Assert.False(checker.SetHealthy(Peer(9, "unknown.test", "t9"), false));

        await Tick(checker); // a TCP probe connects to the live target: 1 success makes it healthy again
        await Eventually.TrueAsync(() => checker.IsHealthy(peer), "the probe to restore the peer");
        Assert.False(checker.IsHealthy(other)); // nothing listens on port 1002
        Assert.Equal(["manual", "manual", "active: 1 successes in a row"], _changes.Select(c => c.Reason));
        Assert.Equal(0, target.Requests); // a TCP probe sends no request
    }

    [Fact]
    public async Task No_more_than_concurrency_probes_run_at_once()
    {
        var gate = new HangGate();
        var peers = new List<BalancerPeer>();
        for (var i = 0; i < 5; i++)
        {
            var target = await Target(gate: gate);
            target.Behaviour = ProbeBehaviour.Hang;
            peers.Add(Peer(target.Port, $"t{i}.test", $"t{i}"));
        }
        var checker = Checker(Active(a => a with
        {
            Concurrency = 2, Timeout = TimeSpan.FromMinutes(5),
            Healthy = a.Healthy with { Interval = Interval },
        }), peers);

        _time.Advance(Interval);
        for (var released = 0; released < 5; released++)
        {
            var expected = Math.Min(2, 5 - released);
            await Eventually.TrueAsync(() => gate.InFlight == expected, $"{expected} probes held");
            gate.ReleaseOne();
        }
        await Eventually.TrueAsync(() => checker.ProbesRecorded == 5, "every probe");
        Assert.Equal(2, gate.MaxInFlight);
        Assert.Equal(5, _targets.Sum(t => t.Requests));
    }

    [Fact]
    public async Task Dispose_stops_the_probes()
    {
        var target = await Target();
        var checker = Checker(Active(a => a with
        {
            Healthy = a.Healthy with { Interval = Interval },
            Unhealthy = a.Unhealthy with { Interval = Interval },
        }), [Peer(target.Port)]);
        await Tick(checker);
        Assert.True(_time.Pending > 0);

        checker.Dispose();
        Assert.Equal(0, _time.Pending);
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, checker.RoundsStarted);
        Assert.Equal(1, target.Requests);
    }

    [Fact]
    public async Task Https_probes_send_the_sni_and_verify_the_certificate_unless_told_not_to()
    {
        using var certificate = SelfSigned("probe.test");
        var target = await Target(certificate);
        var peer = Peer(target.Port, "probe.test");
        HealthCheckSettings Https(bool verify) => Active(a => a with
        {
            Type = HealthCheckType.Https, HttpsSni = "sni.example", HttpsVerifyCertificate = verify,
            Healthy = a.Healthy with { Interval = Interval, Successes = 1 },
            Unhealthy = a.Unhealthy with { Interval = Interval, TcpFailures = 1 },
        });

        var verifying = Checker(Https(verify: true), [peer]);
        await Tick(verifying); // the self-signed certificate is not trusted: the handshake fails
        Assert.False(verifying.IsHealthy(peer));
        Assert.Equal(0, target.Requests);
        verifying.Dispose();

        var trusting = Checker(Https(verify: false), [peer]);
        trusting.SetHealthy(peer, false);
        await Tick(trusting);
        Assert.True(trusting.IsHealthy(peer));
        var seen = Assert.Single(target.Seen);
        Assert.Equal("sni.example", seen.Sni);
        Assert.Equal("probe.test", seen.Host);
    }

    private static X509Certificate2 SelfSigned(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
    }
}
