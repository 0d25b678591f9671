using System.Buffers.Text;
using System.Globalization;
using System.Linq.Expressions;
using System.Reflection;
using System.Text;
using Apptork.Root.Platform.Errors;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Platform.Pagination;

/// <summary>A list response: <c>{"results": [...], "next_cursor": "..." | null}</c>.</summary>
public sealed record CursorPage<T>(IReadOnlyList<T> Results, string? NextCursor);

/// <summary>
/// <c>?limit=</c> (default 20, at most 100) and the opaque <c>?cursor=</c> of the previous page. Bound from the
/// query string by hand so that a bad value is a field error with its own attr, not a generic 400.
/// </summary>
/// <param name="After">The last row of the previous page, as its cursor names it; null for the first page.</param>
public sealed record PageRequest(int Limit, PageKey? After)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public static ValueTask<PageRequest?> BindAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var errors = new List<ApiError>();
        var limit = DefaultLimit;
        if (query.TryGetValue("limit", out var rawLimit))
        {
            if (!int.TryParse(rawLimit, NumberStyles.None, CultureInfo.InvariantCulture, out limit))
            {
                errors.Add(ErrorCatalog.Invalid.At("limit"));
            }
            else if (limit < 1)
            {
                errors.Add(ErrorCatalog.MinValue.At("limit", new Dictionary<string, object?> { ["min_value"] = 1 }));
            }
            else if (limit > MaxLimit)
            {
                errors.Add(ErrorCatalog.MaxValue.At("limit", new Dictionary<string, object?> { ["max_value"] = MaxLimit }));
            }
        }

        PageKey? after = null;
        if (query.TryGetValue("cursor", out var rawCursor) && !string.IsNullOrEmpty(rawCursor))
        {
            after = Cursor.Decode(rawCursor.ToString());
            if (after is null)
            {
                errors.Add(ErrorCatalog.InvalidCursor.At("cursor"));
            }
        }

        return errors.Count > 0 ? throw new ApiException(errors) : ValueTask.FromResult<PageRequest?>(new PageRequest(limit, after));
    }

    public static PageRequest First(int limit = DefaultLimit) => new(limit, null);
}

/// <summary>Where a page ends, by the key its list is ordered on.</summary>
public abstract record PageKey;

/// <summary>A unique increasing key (an identity column).</summary>
public sealed record SequenceKey(long Value) : PageKey;

/// <summary>A creation time with the row's id to break ties: for tables whose ids are random UUIDs.</summary>
public sealed record CreatedKey(DateTimeOffset CreatedAt, Guid Id) : PageKey;

public static class CursorPagination
{
    /// <summary>
    /// Keyset pagination, newest first, on a unique increasing key (an identity column): stable under inserts,
    /// and each page is one index range scan however deep the client goes, unlike OFFSET.
    /// </summary>
    public static async Task<CursorPage<TResult>> ToCursorPageAsync<T, TResult>(
        this IQueryable<T> query,
        PageRequest page,
        Expression<Func<T, long>> key,
        Expression<Func<T, TResult>> projection,
        CancellationToken cancellationToken)
    {
        if (page.After is { } after)
        {
            var bound = new KeyBound(after is SequenceKey sequence ? sequence.Value : throw ForeignCursor());
            var predicate = Expression.Lambda<Func<T, bool>>(
                Expression.LessThan(key.Body, Expression.Property(Expression.Constant(bound), KeyBound.ValueProperty)),
                key.Parameters);
            query = query.Where(predicate);
        }

        return await ReadPageAsync(query.OrderByDescending(key), key, projection, page.Limit, last => new SequenceKey(last), cancellationToken);
    }

    /// <summary>
    /// Keyset pagination, newest first, on a creation time and a UUID that breaks ties between rows created at the same
    /// instant: stable however the ids were made, and one index range scan per page on (created_at, id).
    /// </summary>
    public static async Task<CursorPage<TResult>> ToCursorPageAsync<T, TResult>(
        this IQueryable<T> query,
        PageRequest page,
        Expression<Func<T, DateTimeOffset>> createdAt,
        Expression<Func<T, Guid>> id,
        Expression<Func<T, TResult>> projection,
        CancellationToken cancellationToken)
    {
        var row = createdAt.Parameters[0];
        var idBody = new ParameterReplacer(id.Parameters[0], row).Visit(id.Body);
        if (page.After is { } after)
        {
            var bound = after as CreatedKey ?? throw ForeignCursor();
            var boundTime = Expression.Property(Expression.Constant(bound), nameof(CreatedKey.CreatedAt));
            var boundId = Expression.Property(Expression.Constant(bound), nameof(CreatedKey.Id));
            // created_at < t OR (created_at = t AND id < i); Guid's CompareTo is how EF is told to compare ids in SQL.
            var idBefore = Expression.LessThan(Expression.Call(idBody, CompareGuids, boundId), Expression.Constant(0));
            var predicate = Expression.Lambda<Func<T, bool>>(
                Expression.OrElse(
                    Expression.LessThan(createdAt.Body, boundTime),
                    Expression.AndAlso(Expression.Equal(createdAt.Body, boundTime), idBefore)),
                row);
            query = query.Where(predicate);
        }

        var ordered = query.OrderByDescending(createdAt).ThenByDescending(Expression.Lambda<Func<T, Guid>>(idBody, row));
        var keyed = Expression.Lambda<Func<T, CreatedKey>>(
            Expression.New(typeof(CreatedKey).GetConstructors()[0], createdAt.Body, idBody), row);
        return await ReadPageAsync(ordered, keyed, projection, page.Limit, last => last, cancellationToken);
    }

    /// <summary>Reads one row more than the page holds, which tells whether a next page exists without counting.</summary>
    private static async Task<CursorPage<TResult>> ReadPageAsync<T, TResult, TKey>(
        IQueryable<T> ordered,
        Expression<Func<T, TKey>> key,
        Expression<Func<T, TResult>> projection,
        int limit,
        Func<TKey, PageKey> cursorKey,
        CancellationToken cancellationToken)
    {
        var rows = await ordered.Provider
            .CreateQuery<KeyedRow<TResult, TKey>>(BuildKeyedProjection(ordered.Expression, key, projection))
            .Take(limit + 1)
            .ToListAsync(cancellationToken);

        var results = rows.Take(limit).ToList();
        var nextCursor = rows.Count > limit ? Cursor.Encode(cursorKey(results[^1].Key)) : null;
        return new CursorPage<TResult>(results.Select(row => row.Value).ToArray(), nextCursor);
    }

    private static readonly MethodInfo CompareGuids = typeof(Guid).GetMethod(nameof(Guid.CompareTo), [typeof(Guid)])!;

    /// <summary>A well-formed cursor of another list's kind (a ledger cursor sent to the file list).</summary>
    private static ApiException ForeignCursor() => ErrorCatalog.InvalidCursor.ToException("cursor");

    private static MethodCallExpression BuildKeyedProjection<T, TResult, TKey>(
        Expression source, Expression<Func<T, TKey>> key, Expression<Func<T, TResult>> projection)
    {
        var row = Expression.Parameter(typeof(T), "row");
        var body = Expression.New(
            typeof(KeyedRow<TResult, TKey>).GetConstructors()[0],
            new ParameterReplacer(projection.Parameters[0], row).Visit(projection.Body),
            new ParameterReplacer(key.Parameters[0], row).Visit(key.Body));
        var selector = Expression.Lambda<Func<T, KeyedRow<TResult, TKey>>>(body, row);
        return Expression.Call(typeof(Queryable), nameof(Queryable.Select), [typeof(T), typeof(KeyedRow<TResult, TKey>)], source, Expression.Quote(selector));
    }

    private sealed record KeyedRow<TResult, TKey>(TResult Value, TKey Key);

    /// <summary>Holds the bound in a member access so EF sends it as a parameter and caches one query plan.</summary>
    private sealed class KeyBound(long value)
    {
        public static readonly PropertyInfo ValueProperty = typeof(KeyBound).GetProperty(nameof(Value))!;

        public long Value { get; } = value;
    }

    private sealed class ParameterReplacer(ParameterExpression from, ParameterExpression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : node;
    }
}

/// <summary>Opaque to clients (base64url of a versioned key) so the encoding can change without breaking them.</summary>
internal static class Cursor
{
    private const string SequencePrefix = "k1:";
    private const string CreatedPrefix = "t1:";
    private const int MaxLength = 100;

    public static string Encode(PageKey key) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(key switch
    {
        SequenceKey sequence => SequencePrefix + sequence.Value.ToString(CultureInfo.InvariantCulture),
        CreatedKey created => $"{CreatedPrefix}{created.CreatedAt.UtcTicks.ToString(CultureInfo.InvariantCulture)}:{created.Id:N}",
        _ => throw new ArgumentOutOfRangeException(nameof(key), key, "Unknown page key."),
    }));

    public static PageKey? Decode(string cursor)
    {
        if (cursor.Length > MaxLength || !Base64Url.IsValid(cursor))
        {
            return null;
        }

        var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
        if (text.StartsWith(SequencePrefix, StringComparison.Ordinal))
        {
            return long.TryParse(text.AsSpan(SequencePrefix.Length), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
                ? new SequenceKey(value)
                : null;
        }

        return text.StartsWith(CreatedPrefix, StringComparison.Ordinal)
            && text[CreatedPrefix.Length..].Split(':') is [var ticks, var id]
            && long.TryParse(ticks, NumberStyles.None, CultureInfo.InvariantCulture, out var utcTicks)
            && utcTicks <= DateTimeOffset.MaxValue.UtcTicks
            && Guid.TryParseExact(id, "N", out var guid)
            ? new CreatedKey(new DateTimeOffset(utcTicks, TimeSpan.Zero), guid)
            : null;
    }
}
