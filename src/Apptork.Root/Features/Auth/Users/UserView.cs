namespace Apptork.Root.Features.Auth.Users;

/// <summary>The user as the API shows it to that user.</summary>
/// <param name="AvatarUrl">A short-lived signed URL of the avatar, in the answers of <c>/auth/me</c>; null elsewhere (token answers).</param>
public sealed record UserView(
    Guid Id, string? Email, string? DisplayName, string? Locale, string Role, DateTimeOffset CreatedAt, Guid? AvatarFileId, Uri? AvatarUrl)
{
    public static UserView From(User user, Uri? avatarUrl = null) =>
        new(user.Id, user.Email, user.DisplayName, user.Locale, user.Role, user.CreatedAt, user.AvatarFileId, avatarUrl);
}
