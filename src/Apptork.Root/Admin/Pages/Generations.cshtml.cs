using Apptork.Root.Admin.Generations;
using Apptork.Root.Features.Generation;
using Microsoft.AspNetCore.Mvc;

namespace Apptork.Root.Admin.Pages;

/// <summary>Generations by status, failed ones first (the default), newest first by keyset: open to every staff role.</summary>
public sealed class GenerationsModel(GenerationOperations operations) : AdminPageModel
{
    /// <summary>The filter's value for every status.</summary>
    public const string AllStatuses = "all";

    /// <summary>A status name, or <see cref="AllStatuses"/>; failed when absent.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Status { get; set; }

    public IReadOnlyList<GenerationDetails> Results { get; private set; } = [];

    public string? NextCursor { get; private set; }

    public static IEnumerable<string> StatusChoices =>
        Enum.GetValues<GenerationStatus>().OrderByDescending(status => status == GenerationStatus.Failed).Select(Name).Append(AllStatuses);

    public static string Name(GenerationStatus status) => status.ToString().ToLowerInvariant();

    public async Task OnGetAsync(string? cursor, CancellationToken cancellationToken)
    {
        Status = string.IsNullOrWhiteSpace(Status) ? Name(GenerationStatus.Failed) : Status.Trim().ToLowerInvariant();
        GenerationStatus? status = null;
        if (Status != AllStatuses)
        {
            if (!Enum.TryParse<GenerationStatus>(Status, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
            {
                Error = "ErrorGenerationStatusInvalid";
                return;
            }

            status = parsed;
        }

        var page = await operations.ListAsync(status, cursor, cancellationToken);
        (Results, NextCursor) = (page.Results, page.NextCursor);
        Notice = Results.Count == 0 ? "GenerationsNoneFound" : null;
    }
}
