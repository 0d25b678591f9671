namespace Apptork.Root.Features.Auth.Users;

/// <summary>The user as the API shows it to that user.</summary>
public sealed record UserView(Guid Id, string? Email, string? DisplayName, string? Locale, string Role, DateTimeOffset CreatedAt)
{
    public static UserView From(User user) => new(user.Id, user.Email, user.DisplayName, user.Locale, user.Role, user.CreatedAt);
}
