// One pass = one GET /, recorded like any library request.
export const script = {
  name: 'bench.Get',
  async run(ctx) {
    await ctx.http.get('/');
  },
};
