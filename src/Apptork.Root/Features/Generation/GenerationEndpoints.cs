using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Apptork.Root.Features.FeatureFlags;
using Apptork.Root.Features.Files;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Idempotency;
using Apptork.Root.Platform.Jobs;
using Apptork.Root.Platform.Localization;
using Apptork.Root.Platform.Observability;
using Apptork.Root.Platform.OpenApi;
using Apptork.Root.Platform.Pagination;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Storage;
using Apptork.Root.Platform.Throttling;
using Apptork.Root.Platform.Validation;
using FluentValidation;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Generation;

/// <summary>AI generations: paid when created (or holding their most when priced by usage), run by a background job, refunded (or released) once if they finally fail.</summary>
public static class GenerationEndpoints
{
    public static RouteGroupBuilder MapGenerationEndpoints(this RouteGroupBuilder generations)
    {
        generations.WithTags("Generations").RequireAuthorization();
        generations.MapPost(string.Empty, CreateAsync)
            .Throttle(ThrottleScopes.AiGeneration)
            .Idempotent()
            .Validate<GenerationBody>()
            .RequireFeature(FeatureFlagKeys.AiGeneration)
            .ProducesErrors(ErrorCatalog.AiNotConfigured, ErrorCatalog.FeatureDisabled, ErrorCatalog.InvalidCredit)
            .WithName("generations_create").WithSummary("Create a generation")
            .WithDescription("Creates a text or image generation and queues it; follow GET /generations/{id}/events or poll GET /generations/{id}. Under fixed pricing it debits its cost now; under usage pricing it holds the most it can cost (`held`) and is charged what it used when it ends, the rest released. 402 `invalid_credit` when the available credits cannot cover either.");
        generations.MapGet("/{id:guid}", GetAsync)
            .ProducesErrors(ErrorCatalog.NotFound)
            .WithName("generations_get").WithSummary("Get a generation")
            .WithDescription("A generation: its status, and its result once succeeded (images with a short-lived download URL).");
        // Anonymous at the door: it authenticates itself, with the bearer token or with a signed stream URL's token.
        generations.MapGet("/{id:guid}/events", EventsAsync)
            .AllowAnonymous()
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                // The framework describes the body as a generic SSE item; what each event's data holds is said here.
                operation.Responses?["200"].Description =
                    "A `text/event-stream`. Events: `generation` (data: the generation, as GET /generations/{id}); `delta` (data: `{\"index\": int, \"text\": string}`, "
                    + "with an `id:`); `restarted` (data: `{\"reason\": string}`: discard the text so far); `keep-alive` (data: `{}`: ignore).";
                return Task.CompletedTask;
            })
            .ProducesErrors(ErrorCatalog.NotAuthenticated, ErrorCatalog.NotFound, ErrorCatalog.InvalidStreamToken)
            .WithName("generations_events").WithSummary("Follow a generation")
            .WithDescription(
                "The generation as server-sent events until it succeeds or fails: a `generation` event now and at each change of status; for text, "
                + "a `delta` event (`index`, `text`, and an `id:`) for each piece of the answer as the model writes it, and `restarted` when the answer starts over "
                + "(discard the pieces so far). Reconnect with `Last-Event-ID` (or `?last_event_id=`) to get exactly the pieces missed; after the end, "
                + "a client that has not followed gets the whole text as one `delta` (id `final`). Closing the stream does not cancel the generation. "
                + "Send the bearer token, or, where no header can be sent (a browser's EventSource), open the `stream_url` of POST /generations/{id}/stream-url, whose `token` opens this stream only.");
        generations.MapPost("/{id:guid}/stream-url", StreamUrlAsync)
            .ProducesErrors(ErrorCatalog.NotFound)
            .WithName("generations_stream_url").WithSummary("Sign an event stream URL")
            .WithDescription("A URL of the generation's event stream that needs no Authorization header, for a browser's EventSource: it works for this user and this generation only, for `Generation__StreamUrlSeconds` (5 minutes).");
        generations.MapGet(string.Empty, ListAsync)
            .ProducesErrors(ErrorCatalog.InvalidCursor)
            .WithName("generations_list").WithSummary("List generations")
            .WithDescription("The user's generations, newest first.");
        return generations;
    }

    private static async Task<Accepted<GenerationView>> CreateAsync(
        GenerationBody body, HttpContext context, RootDbContext db, Ledger ledger, OwedGenerations owed, IOptions<GenerationOptions> options,
        IOptions<AiOptions> ai, GenerationPricing pricing, TimeProvider time, CancellationToken cancellationToken)
    {
        if (ai.Value.ActiveProvider == AiProvider.None)
        {
            throw ErrorCatalog.AiNotConfigured.ToException();
        }

        if (!options.Value.Enabled)
        {
            throw ErrorCatalog.FeatureDisabled.ToException();
        }

        var userId = context.User.UserId();
        var idempotency = context.Features.GetRequiredFeature<IdempotentRequest>();
        var type = body.Type == "image" ? GenerationType.Image : GenerationType.Text;
        var now = time.GetUtcNow();
        var generation = new Generation
        {
            Id = Guid.CreateVersion7(now), UserId = userId, Type = type, Prompt = body.Prompt!, ImageSize = body.Options?.Size, MaxOutputTokens = body.Options?.MaxOutputTokens,
            Status = GenerationStatus.Queued, Cost = options.Value.CostOf(type),
            IdempotencyKey = idempotency.Key, RequestHash = idempotency.RequestHash, CreatedAt = now, UpdatedAt = now,
        };
        if (pricing.ByUsage)
        {
            // The limits the hold is computed from are the ones the provider is asked to keep, so the hold bounds the cost.
            generation.MaxOutputTokens = type == GenerationType.Text ? generation.MaxOutputTokens ?? options.Value.MaxOutputTokens : null;
            generation.ImageSize = type == GenerationType.Image ? generation.ImageSize ?? GenerationPricing.DefaultImageSize : null;
            generation.Hold = pricing.HoldFor(type, generation.Prompt, generation.MaxOutputTokens, generation.ImageSize);
            generation.Cost = 0;
        }

        // The generation, its charge (or hold) and the job it is owed commit together: never a charge without a
        // generation, nor a free one, nor one without its job.
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            db.Generations.Add(generation);
            db.UndispatchedGenerations.Add(new UndispatchedGeneration
            {
                GenerationId = generation.Id, UserId = userId, CorrelationId = context.TraceIdentifier, TraceParent = JobTelemetry.RecordedTraceParent(),
            });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException exception) when (DatabaseErrors.IsUniqueViolation(exception))
            {
                await transaction.RollbackAsync(cancellationToken);
                return await AlreadyCreatedAsync(db, idempotency, cancellationToken);
            }

            if (generation.Hold is { } hold)
            {
                // A model priced at nothing holds nothing.
                if (hold > 0)
                {
                    await ledger.HoldAsync(userId, hold, generation.HoldKey, generation.Reference, cancellationToken);
                }
            }
            else
            {
                await ledger.PostAsync(userId, -generation.Cost, LedgerEntryKind.Generation, generation.ChargeKey, generation.Reference, @operator: null, memo: null, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        RootMetrics.GenerationEntered("queued");
        owed.Announce();
        return TypedResults.Accepted($"/api/v1/generations/{generation.Id}", GenerationView.Of(generation, null));
    }

    /// <summary>
    /// The generation an earlier run of this request created and paid for, whose kept answer was lost: answered as then
    /// (its job was committed with it, so it is dispatched whatever became of that run). Another request under the same
    /// key is refused as the kept answer would have refused it.
    /// </summary>
    private static async Task<Accepted<GenerationView>> AlreadyCreatedAsync(
        RootDbContext db, IdempotentRequest idempotency, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var earlier = await db.Generations.AsNoTracking()
            .SingleAsync(candidate => candidate.UserId == idempotency.UserId && candidate.IdempotencyKey == idempotency.Key, cancellationToken);
        idempotency.RefuseUnlessSameAs(earlier.RequestHash);
        return TypedResults.Accepted($"/api/v1/generations/{earlier.Id}", GenerationView.Of(earlier, null));
    }

    private static async Task<Ok<GenerationView>> GetAsync(Guid id, HttpContext context, GenerationEvents events, CancellationToken cancellationToken) =>
        TypedResults.Ok(await events.ViewAsync(id, context.User.UserId(), cancellationToken) ?? throw ErrorCatalog.NotFound.ToException());

    private static async Task<Ok<GenerationStreamUrl>> StreamUrlAsync(
        Guid id, HttpContext context, RootDbContext db, GenerationStreamUrls streamUrls, CancellationToken cancellationToken)
    {
        var userId = context.User.UserId();
        return await db.Generations.AnyAsync(generation => generation.Id == id && generation.UserId == userId, cancellationToken)
            ? TypedResults.Ok(streamUrls.Issue(userId, id))
            : throw ErrorCatalog.NotFound.ToException();
    }

    /// <param name="token">The signed stream URL's token, instead of the bearer token.</param>
    /// <param name="lastEventIdQuery">For a client that opens a new connection (a new EventSource) rather than reconnecting one.</param>
    private static async Task<ServerSentEventsResult<object>> EventsAsync(
        Guid id, string? token, [FromHeader(Name = "Last-Event-ID")] string? lastEventId, [FromQuery(Name = "last_event_id")] string? lastEventIdQuery,
        HttpContext context, GenerationStreamUrls streamUrls, RootDbContext db, GenerationEvents events, IHostApplicationLifetime lifetime,
        CancellationToken cancellationToken)
    {
        var userId = await StreamUserAsync(id, token, context, streamUrls, db, cancellationToken);
        var first = await events.ViewAsync(id, userId, cancellationToken) ?? throw ErrorCatalog.NotFound.ToException();
        var resumeFrom = new[] { lastEventId, lastEventIdQuery }.FirstOrDefault(id => !string.IsNullOrWhiteSpace(id));
        // A proxy in front (nginx buffers responses by default) passes each event on as it comes.
        context.Response.Headers["X-Accel-Buffering"] = "no";
        return TypedResults.ServerSentEvents(events.StreamAsync(first, userId, resumeFrom, lifetime.ApplicationStopping, cancellationToken));
    }

    /// <summary>
    /// Whose stream this is: a token given is the only credential looked at (a bad one is refused even beside a valid
    /// bearer token), and it holds only while its user may still sign in; without one, the bearer token's user.
    /// </summary>
    private static async Task<Guid> StreamUserAsync(
        Guid id, string? token, HttpContext context, GenerationStreamUrls streamUrls, RootDbContext db, CancellationToken cancellationToken)
    {
        if (token is not null)
        {
            return streamUrls.UserFor(token, id) is { } signedUser
                && await db.Users.AnyAsync(user => user.Id == signedUser && user.DisabledAt == null && user.DeletedAt == null, cancellationToken)
                ? signedUser
                : throw ErrorCatalog.InvalidStreamToken.ToException();
        }

        if (context.User.Identity?.IsAuthenticated == true)
        {
            return context.User.UserId();
        }

        // As the status-code pages answer a refused bearer token elsewhere: credentials sent but failed, or none sent.
        throw (string.IsNullOrEmpty(context.Request.Headers.Authorization) ? ErrorCatalog.NotAuthenticated : ErrorCatalog.AuthenticationFailed).ToException();
    }

    private static async Task<Ok<CursorPage<GenerationView>>> ListAsync(PageRequest page, HttpContext context, RootDbContext db, CancellationToken cancellationToken)
    {
        var userId = context.User.UserId();
        return TypedResults.Ok(await db.Generations.AsNoTracking().Where(generation => generation.UserId == userId).ToCursorPageAsync(
            page,
            generation => generation.CreatedAt,
            generation => generation.Id,
            generation => new GenerationView(
                generation.Id, generation.Type, generation.Status, generation.Prompt, generation.Cost,
                generation.Status == GenerationStatus.Queued || generation.Status == GenerationStatus.Running ? generation.Hold ?? 0 : 0,
                generation.ResultText, generation.ResultFileId, null, GenerationUsage.Of(generation.InputTokens, generation.OutputTokens), generation.CreatedAt,
                generation.CompletedAt),
            cancellationToken));
    }
}

/// <param name="Type"><c>text</c> or <c>image</c>.</param>
public sealed record GenerationBody(string? Type, string? Prompt, GenerationBodyOptions? Options = null)
{
    /// <summary>
    /// Any other field (<c>max_output_tokens</c> beside <c>options</c>, where OpenAI's API takes it): refused by name
    /// rather than ignored, so a client never believes it took effect.
    /// </summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; init; }
}

/// <param name="Size">Images only: <c>1024x1024</c>, <c>1024x1536</c> or <c>1536x1024</c>; the provider's default when absent.</param>
/// <param name="MaxOutputTokens">Text only: the longest answer, in tokens, from 1 to <c>Generation__MaxOutputTokens</c>.</param>
public sealed record GenerationBodyOptions(string? Size = null, int? MaxOutputTokens = null)
{
    /// <summary>Any other key: refused by name rather than ignored, so a client never believes an option took effect.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; init; }
}

public sealed class GenerationBodyValidator : AbstractValidator<GenerationBody>
{
    public GenerationBodyValidator(IOptions<GenerationOptions> options)
    {
        RuleFor(body => body.Type).NotEmpty().Must(type => type is null or "" or "text" or "image").WithErrorCode(ErrorCatalog.InvalidChoice.Code);
        RuleFor(body => body.Prompt).NotEmpty().MaximumLength(options.Value.MaxPromptLength);
        RuleFor(body => body.Unknown).Custom((unknown, context) => RefuseUnknown(unknown, string.Empty, context));
        When(body => body.Options is not null, () =>
        {
            RuleFor(body => body.Options!.Size)
                .Must(size => size is null || GenerationOptions.ImageSizes.Contains(size)).WithErrorCode(ErrorCatalog.InvalidChoice.Code)
                .Must((body, size) => size is null || body.Type == "image").WithErrorCode(ErrorCatalog.Invalid.Code);
            RuleFor(body => body.Options!.MaxOutputTokens)
                .GreaterThanOrEqualTo(1).LessThanOrEqualTo(options.Value.MaxOutputTokens)
                .Must((body, tokens) => tokens is null || body.Type == "text").WithErrorCode(ErrorCatalog.Invalid.Code);
            RuleFor(body => body.Options!.Unknown).Custom((unknown, context) => RefuseUnknown(unknown, "Options.", context));
        });
    }

    private static void RefuseUnknown(Dictionary<string, JsonElement>? unknown, string prefix, ValidationContext<GenerationBody> context)
    {
        foreach (var key in unknown?.Keys ?? Enumerable.Empty<string>())
        {
            context.AddFailure(new FluentValidation.Results.ValidationFailure(prefix + key, prefix.Length == 0 ? "Unknown field." : "Unknown option.")
            {
                ErrorCode = ErrorCatalog.Invalid.Code,
            });
        }
    }
}

/// <param name="Cost">Credits charged: under fixed pricing, when it was created (refunded if it fails); under usage pricing, 0 until it succeeds, then what its tokens cost.</param>
/// <param name="Held">Under usage pricing, the credits held for it while it is queued or running (the most it can cost); 0 otherwise.</param>
/// <param name="DownloadUrl">For an image that succeeded: a short-lived signed URL of the file (in single reads, not in lists).</param>
/// <param name="Usage">For text that succeeded: the tokens the provider reported; null otherwise, or when it reported none.</param>
public sealed record GenerationView(
    Guid Id, GenerationType Type, GenerationStatus Status, string Prompt, long Cost, long Held, string? ResultText, Guid? ResultFileId, Uri? DownloadUrl,
    GenerationUsage? Usage, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt)
{
    public static GenerationView Of(Generation generation, SignedUrl? download) => new(
        generation.Id, generation.Type, generation.Status, generation.Prompt, generation.Cost, generation.HeldNow, generation.ResultText, generation.ResultFileId,
        download?.Url, GenerationUsage.Of(generation.InputTokens, generation.OutputTokens), generation.CreatedAt, generation.CompletedAt);

    /// <summary>
    /// Why a failed generation failed, as a stable code and a detail in the caller's language; null unless failed. Never
    /// the provider's own message: that is for operators (logged), and may echo the prompt or name the provider.
    /// </summary>
    public GenerationError? Error => Status == GenerationStatus.Failed
        ? new GenerationError(ErrorCatalog.GenerationFailed.Code, ErrorMessages.Get(ErrorCatalog.GenerationFailed.Code))
        : null;
}

/// <param name="InputTokens">Read by the model (the prompt and its framing).</param>
/// <param name="OutputTokens">Written by the model (the answer).</param>
public sealed record GenerationUsage(int? InputTokens, int? OutputTokens)
{
    public static GenerationUsage? Of(int? inputTokens, int? outputTokens) =>
        inputTokens is null && outputTokens is null ? null : new GenerationUsage(inputTokens, outputTokens);
}

/// <param name="Code">Stable, for the app to branch on: <c>generation_failed</c>.</param>
/// <param name="Detail">For the user, in the request's language.</param>
public sealed record GenerationError(string Code, string Detail);
