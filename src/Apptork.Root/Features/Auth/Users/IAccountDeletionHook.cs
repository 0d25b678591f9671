namespace Apptork.Root.Features.Auth.Users;

/// <summary>
/// Work a feature does with a user's data just before <c>DELETE /auth/me</c> erases it, such as revoking a grant at
/// a provider with a token the erasure is about to delete. Deletion is the user's right and must not wait on a third
/// party: a hook logs its outside failures instead of throwing them.
/// </summary>
public interface IAccountDeletionHook
{
    Task BeforeErasureAsync(User user, CancellationToken cancellationToken);
}
