namespace Apptork.Root.Platform.Errors;

/// <summary>One error of a response: a catalog entry, the snake_case path of the field at fault, the
/// values its localized detail needs (for example <c>max_length</c>), and for <c>link_required</c> the email-code
/// challenge the client answers it with.</summary>
public sealed record ApiError(ErrorDefinition Definition, string? Attr, IReadOnlyDictionary<string, object?>? Args = null, object? Challenge = null);

/// <summary>
/// Thrown by endpoints and services for any expected failure; the exception handler renders it as the
/// standard payload. All errors of one exception share one status (the first error's).
/// </summary>
public sealed class ApiException : Exception
{
    public ApiException(IReadOnlyList<ApiError> errors, TimeSpan? retryAfter = null)
        : base(string.Join(", ", errors.Select(error => error.Definition.Code)))
    {
        if (errors.Count == 0)
        {
            throw new ArgumentException("An API exception needs at least one error.", nameof(errors));
        }

        Errors = errors;
        RetryAfter = retryAfter;
    }

    public IReadOnlyList<ApiError> Errors { get; }

    /// <summary>Sent as <c>Retry-After</c> (429, 409 in-progress, 503).</summary>
    public TimeSpan? RetryAfter { get; }

    public int Status => Errors[0].Definition.Status;
}
