using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Admin;
using Gatehouse.Config;
using Gatehouse.Hosting;
using Gatehouse.Model;
using Gatehouse.Store;
using Gatehouse.Tests.Infrastructure;
using Gatehouse.Tests.Store;
using Gatehouse.Tests.Store.Postgres;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Admin;

/// <summary>A real Kestrel on 127.0.0.1:0 hosting only the Admin API and the store, plus an HttpClient.</summary>
internal sealed class AdminTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private AdminTestHost(WebApplication app, HttpClient client)
    {
        _app = app;
        Client = client;
    }

    public HttpClient Client { get; }
    public GatewayConfigPublisher Publisher => _app.Services.GetRequiredService<GatewayConfigPublisher>();
    public IServiceProvider Services => _app.Services;

    public static Task<AdminTestHost> StartSqliteAsync(string dbPath) =>
        StartAsync(new GatehouseOptions { Database = DatabaseKind.Sqlite, SqlitePath = dbPath });

    /// <summary>A host on a fresh empty store: a SQLite file in <paramref name="dir"/>, or a new schema of the
    /// shared PostgreSQL server's Admin test database (a schema per test is far cheaper than a database).</summary>
    public static async Task<AdminTestHost> StartOnAsync(AdminStore store, TempDir dir) => await StartAsync(await FreshStoreAsync(store, dir));

    /// <summary>Options naming a fresh empty store of that kind; start twice on them to see what persisted.</summary>
    public static async Task<GatehouseOptions> FreshStoreAsync(AdminStore store, TempDir dir) => store switch
    {
        AdminStore.Postgres => new GatehouseOptions { Database = DatabaseKind.Postgres, Postgres = await PostgresTestDatabase.FreshSchemaAsync() },
        _ => new GatehouseOptions { Database = DatabaseKind.Sqlite, SqlitePath = dir.File("gh.db") },
    };

    /// <summary>A DB-less host loading <paramref name="declarative"/> (YAML or JSON text), written to <c>kong.yml</c> in
    /// <paramref name="dir"/>.</summary>
    public static async Task<AdminTestHost> StartDbLessAsync(string declarative, TempDir dir)
    {
        var file = dir.File("kong.yml");
        await File.WriteAllTextAsync(file, declarative);
        return await StartAsync(new GatehouseOptions { Database = DatabaseKind.Off, DeclarativeConfig = file });
    }

    public static async Task<AdminTestHost> StartAsync(GatehouseOptions options)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(GatehouseEntities.Default);
        builder.Services.AddGatehouseStore(options);
        var app = builder.Build();
        app.MapAdminApi();
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        return new AdminTestHost(app, client);
    }

    public async Task<(int Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, object? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
            request.Content = new StringContent(json is string s ? s : System.Text.Json.JsonSerializer.Serialize(json), Encoding.UTF8, "application/json");
        return await SendAsync(request);
    }

    public Task<(int Status, JsonNode? Body)> SendAsync(HttpRequestMessage request) => AdminCalls.SendAsync(Client, request);

    public Task<(int Status, JsonNode? Body)> GetAsync(string path) => SendAsync(HttpMethod.Get, path);
    public Task<(int Status, JsonNode? Body)> PostAsync(string path, object json) => SendAsync(HttpMethod.Post, path, json);

    public Task<(int Status, JsonNode? Body)> SendRawAsync(HttpMethod method, string path, byte[] body, string contentType)
    {
        var request = new HttpRequestMessage(method, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
