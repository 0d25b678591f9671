using Apptork.Root.Platform.Errors;

namespace Apptork.Root.Admin.Catalog;

/// <summary>What a change from a catalog screen came to: done, refused as a whole (a text key), or refused field by field.</summary>
public sealed record CatalogResult(string? Error, IReadOnlyList<ApiError> FieldErrors)
{
    public static CatalogResult Done { get; } = new(null, []);

    public bool Succeeded => Error is null && FieldErrors.Count == 0;

    public static CatalogResult Refused(string error) => new(error, []);

    public static CatalogResult Invalid(IReadOnlyList<ApiError> errors) => new("ErrorFormInvalid", errors);
}
