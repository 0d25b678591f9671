var app = WebApplication.Create(args);
app.MapGet("/healthz/ready", () => Results.Json(new { status = "healthy" }));
await app.RunAsync();
