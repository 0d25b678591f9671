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
public sealed record PageRequest(int Limit, long? After)
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

        long? after = null;
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
            var bound = new KeyBound(after);
            var predicate = Expression.Lambda<Func<T, bool>>(
                Expression.LessThan(key.Body, Expression.Property(Expression.Constant(bound), KeyBound.ValueProperty)),
                key.Parameters);
            query = query.Where(predicate);
        }

        var ordered = query.OrderByDescending(key);
        var rows = await ordered.Provider
            .CreateQuery<KeyedRow<TResult>>(BuildKeyedProjection(ordered.Expression, key, projection))
            .Take(page.Limit + 1)
            .ToListAsync(cancellationToken);

        var hasMore = rows.Count > page.Limit;
        var results = rows.Take(page.Limit).ToList();
        var nextCursor = hasMore ? Cursor.Encode(results[^1].Key) : null;
        return new CursorPage<TResult>(results.Select(row => row.Value).ToArray(), nextCursor);
    }

    private static MethodCallExpression BuildKeyedProjection<T, TResult>(
        Expression source, Expression<Func<T, long>> key, Expression<Func<T, TResult>> projection)
    {
        var row = Expression.Parameter(typeof(T), "row");
        var body = Expression.New(
            typeof(KeyedRow<TResult>).GetConstructors()[0],
            new ParameterReplacer(projection.Parameters[0], row).Visit(projection.Body),
            new ParameterReplacer(key.Parameters[0], row).Visit(key.Body));
        var selector = Expression.Lambda<Func<T, KeyedRow<TResult>>>(body, row);
        return Expression.Call(typeof(Queryable), nameof(Queryable.Select), [typeof(T), typeof(KeyedRow<TResult>)], source, Expression.Quote(selector));
    }

    private sealed record KeyedRow<TResult>(TResult Value, long Key);

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
    private const string Prefix = "k1:";

    public static string Encode(long key) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Prefix + key.ToString(CultureInfo.InvariantCulture)));

    public static long? Decode(string cursor)
    {
        if (cursor.Length > 64 || !Base64Url.IsValid(cursor))
        {
            return null;
        }

        var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
        return text.StartsWith(Prefix, StringComparison.Ordinal)
            && long.TryParse(text.AsSpan(Prefix.Length), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var key)
            ? key
            : null;
    }
}
