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
/// <see cref="After"/> is the key the cursor names: a number or a UUID, as the list's key is.
/// </summary>
public sealed record PageRequest(int Limit, IComparable? After)
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

        IComparable? after = null;
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

public static class CursorPagination
{
    /// <summary>
    /// Keyset pagination, newest first, on a unique increasing key (an identity column, or a time-ordered UUID v7):
    /// stable under inserts, and each page is one index range scan however deep the client goes, unlike OFFSET.
    /// A cursor of another list's kind of key is refused as <c>invalid_cursor</c>.
    /// </summary>
    public static async Task<CursorPage<TResult>> ToCursorPageAsync<T, TKey, TResult>(
        this IQueryable<T> query,
        PageRequest page,
        Expression<Func<T, TKey>> key,
        Expression<Func<T, TResult>> projection,
        CancellationToken cancellationToken)
        where TKey : struct, IComparable<TKey>
    {
        if (page.After is not null)
        {
            var bound = new KeyBound<TKey>(page.After is TKey after ? after : throw new ApiException([ErrorCatalog.InvalidCursor.At("cursor")]));
            var predicate = Expression.Lambda<Func<T, bool>>(
                Expression.LessThan(key.Body, Expression.Property(Expression.Constant(bound), KeyBound<TKey>.ValueProperty)),
                key.Parameters);
            query = query.Where(predicate);
        }

        var ordered = query.OrderByDescending(key);
        var rows = await ordered.Provider
            .CreateQuery<KeyedRow<TResult, TKey>>(BuildKeyedProjection(ordered.Expression, key, projection))
            .Take(page.Limit + 1)
            .ToListAsync(cancellationToken);

        var hasMore = rows.Count > page.Limit;
        var results = rows.Take(page.Limit).ToList();
        var nextCursor = hasMore ? Cursor.Encode(results[^1].Key) : null;
        return new CursorPage<TResult>(results.Select(row => row.Value).ToArray(), nextCursor);
    }

    private static MethodCallExpression BuildKeyedProjection<T, TKey, TResult>(
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
    private sealed class KeyBound<TKey>(TKey value)
    {
        public static readonly PropertyInfo ValueProperty = typeof(KeyBound<TKey>).GetProperty(nameof(Value))!;

        public TKey Value { get; } = value;
    }

    private sealed class ParameterReplacer(ParameterExpression from, ParameterExpression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : node;
    }
}

/// <summary>
/// Opaque to clients (base64url of a versioned key) so the encoding can change without breaking them: <c>k1:</c> and a
/// number, or <c>u1:</c> and a UUID.
/// </summary>
internal static class Cursor
{
    private const string NumberPrefix = "k1:";
    private const string UuidPrefix = "u1:";

    public static string Encode<TKey>(TKey key) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(key switch
    {
        long number => NumberPrefix + number.ToString(CultureInfo.InvariantCulture),
        Guid uuid => UuidPrefix + uuid.ToString("N"),
        _ => throw new ArgumentException($"No cursor encoding for a key of type {typeof(TKey).Name}.", nameof(key)),
    }));

    /// <summary>The key the cursor names (a <see cref="long"/> or a <see cref="Guid"/>), or null for anything else.</summary>
    public static IComparable? Decode(string cursor)
    {
        if (cursor.Length > 64 || !Base64Url.IsValid(cursor))
        {
            return null;
        }

        var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
        if (text.StartsWith(NumberPrefix, StringComparison.Ordinal)
            && long.TryParse(text.AsSpan(NumberPrefix.Length), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        return text.StartsWith(UuidPrefix, StringComparison.Ordinal) && Guid.TryParseExact(text.AsSpan(UuidPrefix.Length), "N", out var uuid)
            ? uuid
            : null;
    }
}
